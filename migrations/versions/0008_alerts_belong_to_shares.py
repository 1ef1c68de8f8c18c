"""alerts belong to the share that raised them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00

Existing alerts are given the share they were raised under: the newest share between the
same patient and counselor created no later than the alert. An alert without one (which
no share could have raised) is deleted. Alerts are read by counselors, so their stored
reasons, worded for the patient until now, are worded again for the counselor from the
numbers in the old text (a text this does not recognise is kept as it was).

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RAISED_UNDER = """
UPDATE alerts SET share_id = (
    SELECT shares.id FROM shares
    WHERE shares.patient_id = alerts.patient_id
      AND shares.counselor_id = alerts.counselor_id
      AND shares.created_at <= alerts.created_at
    ORDER BY shares.created_at DESC
    LIMIT 1
)
"""


_NUMBER = r"(\d+(?:\.\d+)?)"
_CHANGE = rf"{_NUMBER}, (?:up|down) from a {_NUMBER}-day average of {_NUMBER}\."
# The patient's wording of each reason up to 0005, and the facts in it.
_PATIENT_WORDING = {
    "crisis": (r"You said you feel unsafe or in crisis\.", lambda m: {}),
    "dehydration_risk": (
        rf"Vomiting or diarrhoea at {_NUMBER} or more two days in a row "
        rf"\(today {_NUMBER}, yesterday {_NUMBER}\)\.",
        lambda m: {"threshold": int(m[1]), "day": int(m[2]), "day_before": int(m[3])},
    ),
    "overdose_risk": (
        rf"You reported using today after {_NUMBER} check-ins with no use\.",
        lambda m: {"break_checkins": int(m[1])},
    ),
    "worsening_total": (
        rf"Total {_CHANGE}$",
        lambda m: {"total": int(m[1]), "days": int(m[2]), "mean": float(m[3])},
    ),
    "worsening_symptom": (
        rf"(Nausea|Aches|Anxiety|Insomnia) {_CHANGE}$",
        lambda m: {
            "symptom": m[1].lower(),
            "score": int(m[2]),
            "days": int(m[3]),
            "mean": float(m[4]),
        },
    ),
    "improving": (
        rf"Total {_CHANGE}$",
        lambda m: {"total": int(m[1]), "days": int(m[2]), "mean": float(m[3])},
    ),
    "no_baseline": (
        rf"Not enough recent check-ins to compare with yet \({_NUMBER} in the last "
        rf"{_NUMBER} days; {_NUMBER} needed\)\.$",
        lambda m: {"checkins": int(m[1]), "days": int(m[2]), "needed": int(m[3])},
    ),
}
_SEVERE_SCORES = re.compile(rf"^(.+?) (?:is|are) severe \({_NUMBER} or more\)\.")
_SEVERE_TOTAL = re.compile(rf"Total {_NUMBER} of \d+ is severe \({_NUMBER} or more\)\.")


def _severe_facts(message: str) -> dict | None:
    """The facts of a severe_symptoms text, or None if it is not one."""
    scores, total = _SEVERE_SCORES.match(message), _SEVERE_TOTAL.search(message)
    if total is not None and total.start() == 0:
        scores = None
    if scores is None and total is None:
        return None
    severe = (
        re.findall(r"(nausea|aches|anxiety|insomnia) (\d+)", scores[1].lower()) if scores else []
    )
    return {
        "severe": [(name, int(score)) for name, score in severe],
        "severe_score": int(scores[2]) if scores else 0,
        "total": int(total[1]) if total else None,
        "severe_total": int(total[2]) if total else 0,
    }


def facts_of(code: str, message: str) -> dict | None:
    """The facts in a reason worded for the patient, or None if the text is not recognised."""
    if code == "severe_symptoms":
        return _severe_facts(message)
    if code not in _PATIENT_WORDING:
        return None
    pattern, facts = _PATIENT_WORDING[code]
    found = re.match(pattern, message)
    return None if found is None else facts(found)


def for_counselor(reason: dict) -> dict:
    """A stored reason worded for the counselor, if its text is recognised."""
    from server.assessments.judgement import Reason

    facts = facts_of(reason.get("code"), reason.get("message") or "")
    if facts is None:
        return reason
    return {**reason, "message": Reason(reason["code"], facts).counselor_message}


def _reword_for_counselors(connection) -> None:
    alerts = sa.table(
        "alerts", sa.column("id", sa.Uuid(as_uuid=False)), sa.column("reasons", sa.JSON)
    )
    for alert_id, reasons in connection.execute(sa.select(alerts.c.id, alerts.c.reasons)).all():
        reworded = [for_counselor(reason) for reason in reasons or []]
        if reworded != reasons:
            connection.execute(
                alerts.update().where(alerts.c.id == alert_id).values(reasons=reworded)
            )


def upgrade():
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_id", sa.Uuid(as_uuid=False), nullable=True))
    op.execute(RAISED_UNDER)
    op.execute("DELETE FROM alerts WHERE share_id IS NULL")
    _reword_for_counselors(op.get_bind())
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("share_id", existing_type=sa.Uuid(as_uuid=False), nullable=False)
        batch_op.drop_constraint("uq_alerts_day", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_share_day", ["share_id", "checkin_date"])
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_share_id_shares"),
            "shares",
            ["share_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    # The counselor's wording stays: it states the same facts.
    # Back to one alert per patient, counselor and day: keep the newest of each.
    op.execute(
        """
        DELETE FROM alerts WHERE EXISTS (
            SELECT 1 FROM alerts AS newer
            WHERE newer.patient_id = alerts.patient_id
              AND newer.counselor_id = alerts.counselor_id
              AND newer.checkin_date = alerts.checkin_date
              AND newer.created_at > alerts.created_at
        )
        """
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_share_id_shares"), type_="foreignkey")
        batch_op.drop_constraint("uq_alerts_share_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alerts_day", ["patient_id", "counselor_id", "checkin_date"]
        )
        batch_op.drop_column("share_id")
