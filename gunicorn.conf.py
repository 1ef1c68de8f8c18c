"""gunicorn settings for Steady: `gunicorn -c gunicorn.conf.py wsgi:app` (what `make run` does).

gunicorn also reads this file by itself when started from the repository root. Flags and
GUNICORN_CMD_ARGS override it, e.g. `--bind 0.0.0.0:8000` or `--threads 16`; without
--bind, gunicorn listens on 127.0.0.1:8000 (0.0.0.0:$PORT when PORT is set).

Worker model: rate limits kept in memory (no REDIS_URL) are counted per process, so without
REDIS_URL there is exactly one worker process, serving requests on threads; with REDIS_URL
there are WEB_CONCURRENCY (default 2) workers. The app refuses to start with more than one
worker and in-memory limits (see server.config.check_shared_rate_limits).
"""

import os

worker_class = "server.gunicorn_worker.ProblemThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2) if os.environ.get("REDIS_URL") else 1
threads = 8

# Longer than the app's own bounds (database statements ~5 s, Redis 0.5 s, locator 3 s): a
# request with nothing sent after `timeout` seconds is answered 503 problem+json by the worker.
timeout = 30
# After a stop or restart signal, in-flight requests get this long to finish.
graceful_timeout = 30
keepalive = 5

# gunicorn's defaults, written out because the README and the 414/431 details quote them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The app logs method, route pattern, status and duration itself; gunicorn keeps no access
# log, and if one is switched on it carries no query string, address, referrer or agent.
accesslog = None
access_log_format = "%(m)s %(U)s %(s)s %(M)sms"
errorlog = "-"
logger_class = "server.gunicorn_worker.FramesOnlyLogger"

# No control socket: its default path ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/) is shared
# by every gunicorn of the same user, and it could add workers behind the limits' back.
control_socket_disable = True


def on_starting(server):
    """Tell the app how many workers share its rate limits (it refuses more than one in memory)."""
    os.environ["STEADY_SERVER_WORKERS"] = str(server.cfg.workers)


def nworkers_changed(server, new_value, old_value):
    """Keep one worker without REDIS_URL, whatever TTIN signals ask for."""
    if old_value is not None and new_value > max(old_value, 1) and not os.environ.get("REDIS_URL"):
        server.log.warning("More workers need REDIS_URL (shared rate limits); staying at 1.")
        server.num_workers = old_value
        return
    os.environ["STEADY_SERVER_WORKERS"] = str(new_value)
