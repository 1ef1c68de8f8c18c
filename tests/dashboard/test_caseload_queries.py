"""The caseload page reads a fixed number of statements, however many patients share."""

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event

from server.extensions import db
from tests.dashboard.helpers import Dashboard, text_of
from tests.factories import MODERATE_SCORES
from tests.platform.test_statement_counts import StatementLog

TODAY = date.today()


@contextmanager
def recorded(app):
    """Every statement the app sends while the block runs."""
    log = StatementLog()

    def on_execute(_conn, _cursor, statement, _params, _context, _executemany):
        log.all.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def caseload_of(app, factory, size: int) -> Dashboard:
    """A signed-in counselor with `size` sharing patients, each with an open alert."""
    counselor = factory.counselor()
    for _ in range(size):
        patient = factory.patient()
        factory.share(patient, counselor)
        factory.log(patient, TODAY, [dict(MODERATE_SCORES)] * 2 + [{"nausea": 9}])
    dashboard = Dashboard(app.test_client())
    dashboard.sign_in(counselor)
    return dashboard


def test_the_caseload_costs_the_same_statements_for_5_and_50_patients(app, factory):
    counts = {}
    for size in (5, 50):
        dashboard = caseload_of(app, factory, size)
        with recorded(app) as log:
            response = dashboard.get("/dashboard")
        assert response.status_code == 200
        assert text_of(response).count('<th scope="row">') == size
        counts[size] = log.count()
    assert counts[5] == counts[50], counts
    # Session check; patients: shares, their recent days, their instrument results, audit;
    # alerts: shares, alerts, audit.
    assert counts[50] == 8, counts
