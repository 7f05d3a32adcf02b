"""Settings for benchmark runs: the demo site's own settings, production-like.

Debug is off (no per-query logging), and the API's throttle rates are raised far above
what one benchmark process can send, so throttling still runs on every request (its cost
is measured) but never answers 429.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from config.settings import *  # noqa: E402,F401,F403
from config.settings import HELPDESK  # noqa: E402

from helpdesk.conf import DEFAULTS as _HELPDESK_DEFAULTS  # noqa: E402

DEBUG = False
HELPDESK = {
    **HELPDESK,
    "THROTTLE_RATES": {scope: "100000000/min" for scope in _HELPDESK_DEFAULTS.get("THROTTLE_RATES", {})},
}

# Expected 404s (an endpoint not built yet) would log a warning per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}},
}
