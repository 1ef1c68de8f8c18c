"""Import every feature's models so Alembic and the mapper see all tables."""

from server.alerts.models import Alert  # noqa: F401
from server.audit.models import AuditEvent  # noqa: F401
from server.auth.models import (  # noqa: F401
    AuthSession,
    RefreshToken,
    User,  # noqa: F401
)
from server.checkins.models import Checkin, CheckinFeed, CheckinTombstone  # noqa: F401
from server.episodes.models import Episode  # noqa: F401
from server.exports.models import ExportLease  # noqa: F401
from server.instruments.models import InstrumentObservation, InstrumentResponse  # noqa: F401
from server.resources.models import Resource  # noqa: F401
from server.sharing.models import Share  # noqa: F401
