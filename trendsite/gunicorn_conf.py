"""gunicorn settings for the Procfile's web process (WEB_BIND, WEB_CONCURRENCY from the environment)."""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 60
accesslog = "-"
logger_class = "trendsite.gunicorn_logging.JsonAccessLogger"
# Behind a proxy the client address is in X-Forwarded-For; gunicorn trusts it only from these.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
