"""Settings for the test suite: the real settings module, with test-only environment defaults applied first."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("RESIDENT_ID_KEY", "test-resident-id-key")
os.environ.setdefault("AUDIT_CHAIN_KEY", "test-audit-chain-key")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SMS_SENDER", "gongzhi.core.sms.MemorySender")
# Playwright's sync API runs an event loop in the main thread; Django's ORM refuses to run there otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault(
    "GONGZHI_DATA_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test")
)

from gongzhi.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Fast hashing in tests only; production keeps argon2 (checked in tests/core/test_settings.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
