"""Settings of the demo site, read from the environment.

DATABASE_URL (default: SQLite beside manage.py), DJANGO_DEBUG, DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS (comma-separated). With debug off the settings are production-safe:
a secret key is required, cookies are secure, HTTP redirects to HTTPS, HSTS is on, and
``manage.py check --deploy`` finds nothing. Behind a TLS-terminating proxy, set
DJANGO_CSRF_TRUSTED_ORIGINS (e.g. https://help.example.com); DJANGO_SECURE_SSL_REDIRECT=0
turns the redirect off where the proxy already does it, DJANGO_SECURE_HSTS_PRELOAD=1 opts
in to browsers' HSTS preload lists.
"""

import os
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
# The address the demo's landing page gives for mailing the helpdesk.
DEMO_MAILBOX = os.environ.get("DJANGO_DEMO_MAILBOX", "support@helpdesk.localhost")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally: the demo needs no CDN
    *(["django_tasks"] if django.VERSION < (6, 0) else []),  # the Tasks backport on Django 5.2
    "django_tasks_db",  # the database task backend and its `manage.py db_worker`
    "anymail",  # providers' inbound mail webhooks (helpdesk.mail.anymail)
    "helpdesk",
]

# The task layer (helpdesk.events.tasks): side effects after a write are tasks. The demo
# queues them in the database and `manage.py db_worker` (started by `make demo`) runs them.
# HELPDESK_TASKS_BACKEND names another backend class, e.g.
# "django_tasks.backends.immediate.ImmediateBackend" to run them inside the request.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("HELPDESK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    },
}

# Several app servers (docs/deploy.md). HELPDESK_REDIS_URL: Redis as the cache every
# server shares (throttle counters, the admin overview's figures). HELPDESK_RQ_URL: the
# tasks on RQ in that Redis instead of the database (run `manage.py rqworker
# --with-scheduler --job-class django_tasks_rq.Job default` instead of db_worker).
REDIS_URL = os.environ.get("HELPDESK_REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
RQ_URL = os.environ.get("HELPDESK_RQ_URL", "")
if RQ_URL:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("helpdesk"), "django_rq")
    RQ_QUEUES = {"default": {"URL": RQ_URL, "DEFAULT_TIMEOUT": 600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The admin and the API speak the visitor's language (Accept-Language) where the
    # helpdesk ships a catalog.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A busy database (a lock wait timed out) is a 503 with Retry-After, never a 500.
    "helpdesk.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the demo and concurrent requests share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles any query the planner thinks costly; for a search over a
    # million tickets that compilation took 1.4 s of a 4.1 s query (bench/README.md).
    # Short OLTP queries never gain from it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Server-side parameters and prepared statements: a statement the connection has sent
    # 5 times is prepared, so PostgreSQL stops parsing and planning it on every request
    # (planning the ticket list's query cost more than running it; bench/README.md).
    # HELPDESK_DB_PREPARE=0 turns it off, e.g. behind PgBouncer older than 1.21 in
    # transaction pooling mode (docs/deploy.md).
    if os.environ.get("HELPDESK_DB_PREPARE", "1") != "0":
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
LANGUAGES = [
    ("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español"),
    ("pt-br", "Português (Brasil)"), ("nl", "Nederlands"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The helpdesk API pins its own renderers, parsers, auth, permissions, throttles and error
# handler per view; the site only has to pick drf-spectacular as the schema class.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The Swagger UI page of the demo (/api/docs/), served from the site's own static files.
# The helpdesk API's document needs no setting here: the app names it, versions it and
# names its enums itself (helpdesk.api.schema.SPECTACULAR_SETTINGS).
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

HELPDESK = {
    # Mail: acknowledgements, agent replies to the requester and CC, customer mail to the
    # assignees, sent by the task worker (helpdesk.mail.outbound).
    "NOTIFIER": "helpdesk.mail.outbound.MailNotifier",
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "support@helpdesk.localhost")

# Inbound mail from providers' webhooks (django-anymail): the basic-auth "user:password"
# the provider is given in its webhook URL.
# Without ANYMAIL_WEBHOOK_SECRET (and with debug off) the webhooks refuse every call.
ANYMAIL = {"WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "demo:demo-inbound-secret" if DEBUG else "")}
if not ANYMAIL["WEBHOOK_SECRET"]:
    del ANYMAIL["WEBHOOK_SECRET"]

# Webhooks to private or loopback addresses (a receiver on this machine, in a demo).
if env_bool("HELPDESK_WEBHOOK_ALLOW_PRIVATE", False):
    HELPDESK["WEBHOOK_ALLOW_PRIVATE"] = True

# In debug, mail is printed to the console; otherwise sent over SMTP (localhost:25 by
# default). Django 6.1 replaced EMAIL_BACKEND with MAILERS.
_MAIL_BACKEND = f"django.core.mail.backends.{'console' if DEBUG else 'smtp'}.EmailBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _MAIL_BACKEND}}
else:
    EMAIL_BACKEND = _MAIL_BACKEND

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo, so it is the operator's explicit choice; until then the
    # deploy check's reminder about it (W021) is silenced.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Uploaded files (the helpdesk's attachments, through STORAGES["default"]).
MEDIA_ROOT = os.environ.get("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media"))
