"""The app as gunicorn serves it, plus a test-only route that sleeps: `tests.gunicorn_app:app`."""

import sys
import time

from flask import request

from server import create_app

app = create_app()


@app.get("/test/slow")
def slow():
    """Sleep for ?seconds= (default 10), like a request stuck on something slow."""
    # Lets a test know the request reached the app (gunicorn's stderr goes to its log).
    print("slow request started", file=sys.stderr, flush=True)
    time.sleep(float(request.args.get("seconds", "10")))
    return {"slept": True}
