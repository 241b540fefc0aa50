"""Django settings, read from the environment (12-factor). See README "配置 Configuration"."""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

# DEMO: the local demo/dev mode started by `gongzhi demo`; never in production.
DEMO = env.bool("GONGZHI_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=DEMO)
DATA_DIR = Path(env.str("GONGZHI_DATA_DIR", default=str(Path.cwd() / "var")))


def _secret_from_file(name: str, create: bool) -> str | None:
    path = DATA_DIR / name
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    path.write_text(value)
    path.chmod(0o600)
    return value


# Secrets are generated and kept in DATA_DIR on the first demo/debug run; production must set them in the
# environment (a key file lying around is never trusted outside demo/debug).
_LOCAL = DEMO or DEBUG
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    _secret_from_file("secret_key", create=True) if _LOCAL else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY 未设置：生产环境必须通过环境变量 SECRET_KEY 提供密钥。")

# Key for the keyed hash (HMAC) of resident ID numbers. Separate from SECRET_KEY so that rotating the session key
# does not orphan every stored hash; losing it makes the stored hashes unmatchable, so back it up.
RESIDENT_ID_KEY = env.str("RESIDENT_ID_KEY", default="") or (
    _secret_from_file("resident_id_key", create=True) if _LOCAL else ""
)
if not RESIDENT_ID_KEY:
    raise ImproperlyConfigured("RESIDENT_ID_KEY 未设置：生产环境必须提供居民身份证号摘要密钥（并妥善备份）。")

# Key of the audit log's HMAC chain. Kept outside the database, so that write access to the database alone cannot
# rewrite history undetected; keep it with the backups (a restored chain verifies only under the same key).
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="") or (
    _secret_from_file("audit_chain_key", create=True) if _LOCAL else ""
)
if not AUDIT_CHAIN_KEY:
    raise ImproperlyConfigured("AUDIT_CHAIN_KEY 未设置：生产环境必须提供审计哈希链密钥（并妥善备份）。")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG or DEMO else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "gongzhi.core",
    "gongzhi.duties",
    "gongzhi.inspections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongzhi.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"
ASGI_APPLICATION = "gongzhi.asgi.application"

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
                "django.template.context_processors.i18n",
                "gongzhi.core.context_processors.navigation",
            ],
        },
    }
]

DATA_DIR_DB = DATA_DIR / "gongzhi.sqlite3"
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR_DB}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so the audit chain head is never read stale by a
    # concurrent writer; WAL lets readers go on while one writer works.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Server-side binding lets psycopg prepare statements that repeat on a connection, so PostgreSQL stops
    # re-planning the same few queries on every request. Turn off behind a transaction-pooling pgbouncer.
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "gongzhi.core.auth.LockoutModelBackend",
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lockout after repeated failed password logins.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# One-time codes for residents.
OTP_TTL_SECONDS = 300
OTP_RESEND_SECONDS = env.int("OTP_RESEND_SECONDS", default=60)
OTP_MAX_PER_DAY = 10
OTP_MAX_ATTEMPTS = 5
SMS_SENDER = env.str("SMS_SENDER", default="gongzhi.core.sms.LogSender")

# A shared cache (Redis in production: CACHE_URL=redis://127.0.0.1:6379/1) lets every app-server process see the
# same cached sessions. Without one, sessions live in the database only: a per-process memory cache in front of
# them would let a session that was logged out in one worker live on in another.
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gongzhi"}
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "gongzhi.core.cache.PooledRedisCache"
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if CACHE_URL else "db")
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
# gongzhi/ is not an app (only gongzhi.core is), so its static folder must be listed for collectstatic.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)

# Security. HTTPS is on unless DEBUG/demo; behind nginx the proxy sets X-Forwarded-Proto.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind nginx the client address is the last X-Forwarded-For entry (the one nginx appended); per-client throttles
# (the public code check) use it only when told the proxy is there, since a direct client could forge the header.
VERIFY_TRUST_FORWARDED = env.bool("BEHIND_PROXY", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; kept default
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 500

# Extra endpoints used only by bench/http.py to measure a bare Django view on the same server.
BENCH_VIEWS = env.bool("GONGZHI_BENCH_VIEWS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "gongzhi": {
            "handlers": ["console"],
            "level": env.str("LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
    },
}
