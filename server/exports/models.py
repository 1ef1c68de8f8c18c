"""Export leases: at most one export in flight per person, across every worker process."""

from datetime import datetime

from sqlalchemy import Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class ExportLease(db.Model):
    """The export a person has in flight; it lapses at ``expires_at`` if never released."""

    __tablename__ = "export_leases"

    # The person asking (a patient, or a counselor exporting a patient's log).
    person_id: Mapped[str] = mapped_column(
        Uuid(as_uuid=False),
        db.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    )
    # Which export holds it, so a late release never ends a newer export's lease.
    lease_id: Mapped[str] = mapped_column(Uuid(as_uuid=False))
    expires_at: Mapped[datetime]
