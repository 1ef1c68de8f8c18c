"""A deliberately naive peer of Steady's check-in write, for bench/bench_request_path.py.

What a first Flask tutorial would write: flask-jwt-extended for the token, a marshmallow
schema for the body, one SQLite upsert and a commit. No blueprints, no request hooks,
no judgement, no audit, no rate limits, no ORM. One sqlite3 connection per worker
process (opened on first use), so the comparison is not about connection set-up.

    NAIVE_PEER_DATABASE=/tmp/peer.db NAIVE_PEER_JWT_SECRET=... \\
        gunicorn --workers 2 bench.naive_peer.app:app
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime

from flask import Flask, abort, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
from marshmallow import Schema, ValidationError, fields, validate

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS checkins (
    patient_id TEXT NOT NULL,
    date TEXT NOT NULL,
    nausea INTEGER NOT NULL,
    aches INTEGER NOT NULL,
    anxiety INTEGER NOT NULL,
    insomnia INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (patient_id, date)
)
"""

UPSERT_SQL = """
INSERT INTO checkins (patient_id, date, nausea, aches, anxiety, insomnia, updated_at)
VALUES (:patient_id, :date, :nausea, :aches, :anxiety, :insomnia, :updated_at)
ON CONFLICT (patient_id, date) DO UPDATE SET
    nausea = excluded.nausea,
    aches = excluded.aches,
    anxiety = excluded.anxiety,
    insomnia = excluded.insomnia,
    updated_at = excluded.updated_at
RETURNING patient_id, date, nausea, aches, anxiety, insomnia, updated_at
"""

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ["NAIVE_PEER_JWT_SECRET"]
app.config["JWT_ALGORITHM"] = "HS256"
app.config["JWT_DECODE_ALGORITHMS"] = ["HS256"]
jwt = JWTManager(app)

DATABASE = os.environ["NAIVE_PEER_DATABASE"]
_connection: sqlite3.Connection | None = None


def score():
    return fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10))


class CheckinSchema(Schema):
    nausea = score()
    aches = score()
    anxiety = score()
    insomnia = score()


checkin_schema = CheckinSchema()


def connection() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        conn = sqlite3.connect(DATABASE, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute(SCHEMA_SQL)
        conn.commit()
        _connection = conn
    return _connection


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.put("/api/v1/checkins/<day>")
@jwt_required()
def put_checkin(day: str):
    try:
        day = date.fromisoformat(day).isoformat()
    except ValueError:
        abort(404)
    try:
        scores = checkin_schema.load(request.get_json(force=True, silent=True) or {})
    except ValidationError as error:
        return jsonify(errors=error.messages), 422
    conn = connection()
    row = conn.execute(
        UPSERT_SQL,
        {
            "patient_id": get_jwt_identity(),
            "date": day,
            "updated_at": datetime.now(UTC).isoformat(),
            **scores,
        },
    ).fetchone()
    conn.commit()
    return jsonify(dict(row))
