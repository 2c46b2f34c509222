"""Settings of the gunicorn the API benchmark starts: the test settings without rate limits (8 clients on one
address would otherwise measure 429s)."""

from trendsite.settings.test import *  # noqa: F403

RATELIMIT_ENABLE = False
