"""The demo's settings for the two-server test: Redis as the shared cache (database 7),
tight throttles to count, webhooks to this machine, short webhook timeouts."""

import os

os.environ.setdefault("HELPDESK_REDIS_URL", "redis://127.0.0.1:6379/7")

from config.settings import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
HELPDESK = {
    "THROTTLE_RATES": {"anon": "60/min", "user": "20/min", "upsert": "600/min"},
    "WEBHOOK_ALLOW_PRIVATE": True,
    "WEBHOOK_TIMEOUT_SECONDS": 2,
    "WEBHOOK_RETRY_BACKOFF_SECONDS": 0,
}
