"""Settings for the teaching archive.

Every value comes from an environment variable (documented with its default in ``.env.example``).
The defaults give the embedded setup of ``make run``: SQLite, database search backend, a Celery
worker on an embedded (SQLAlchemy/SQLite) broker, files under ``var/``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from archive import scheduling as _scheduling
from archive.deid.options import DEFAULT_PROFILE as DEFAULT_DEID_PROFILE
from archive.services.policy import profile_from as deid_profile_from
from teaching_archive import storages as _storages
from teaching_archive.keys import UnusableKey, load_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(env("TA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# No key has a default (teaching_archive/keys.py says why): each comes from the environment or
# from the keys file `make run` generates once, and a missing or weak key stops the start-up.
TA_KEYS_FILE = Path(env("TA_KEYS_FILE", str(VAR_DIR / "keys.env")))
try:
    _KEYS = load_keys(os.environ, TA_KEYS_FILE)
except UnusableKey as exc:
    raise ImproperlyConfigured(str(exc)) from None
SECRET_KEY = _KEYS["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = [
    h for h in env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "csp",
    "archive",
    "search",
    "teaching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the "try again later" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "teaching_archive.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "teaching_archive.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a worker subprocess started by the tests sees the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: a locked-out username or address is refused before the password hasher runs.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("cs", "Čeština")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by whitenoise as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# Anonymized, verified files only: served to users through views that check permissions.
MEDIA_ROOT = Path(env("TA_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Raw uploads wait here for the worker. No URL maps to this folder; files are deleted after
# processing. Quarantined files (failed verification) are kept for admins only.
RAW_HOLDING_ROOT = Path(env("TA_RAW_HOLDING_ROOT", str(VAR_DIR / "holding")))
QUARANTINE_ROOT = Path(env("TA_QUARANTINE_ROOT", str(VAR_DIR / "quarantine")))
RENDER_CACHE_ROOT = Path(env("TA_RENDER_CACHE_ROOT", str(VAR_DIR / "render-cache")))
# Rendered PNGs of the presets are kept up to this many megabytes; past it the least recently
# used are deleted. Custom windows (a W/L drag) are rendered but never stored.
TA_RENDER_CACHE_MAX_MB = float(env("TA_RENDER_CACHE_MAX_MB", "1024"))
# A browser upload's raw originals stay in the holding area after processing so the teacher can
# add redaction boxes, until the case is submitted or this many hours pass (purge_originals).
TA_RAW_RETENTION_HOURS = float(env("TA_RAW_RETENTION_HOURS", "72"))
# Quarantined files (output that failed verification: it may still identify a patient) are
# deleted this many days after quarantine (purge_quarantine, hourly); the item and its reason stay.
TA_QUARANTINE_RETENTION_DAYS = float(env("TA_QUARANTINE_RETENTION_DAYS", "30"))

# Where the files live (teaching_archive/storages.py): folders under var/ by default, or
# S3-compatible buckets shared by workers on several machines (TA_STORAGE=s3, TA_S3_*).
TA_STORAGE = env("TA_STORAGE", "filesystem")
PRIVATE_FILE_OPTIONS = _storages.PRIVATE_FILE_OPTIONS
STORAGES = _storages.storages_from(
    os.environ,
    media=MEDIA_ROOT,
    holding=RAW_HOLDING_ROOT,
    quarantine=QUARANTINE_ROOT,
    render_cache=RENDER_CACHE_ROOT,
)
# Request bodies are spooled to temporary files here (a local folder of each web process, also
# with TA_STORAGE=s3), then stored in the holding storage. Empty: TA_RAW_HOLDING_ROOT/incoming.
INCOMING_ROOT = env("TA_INCOMING_ROOT", "")
# The review queue (spaced repetition, teaching/services/review.py): at most this many cases a
# student has not met yet per day, and this share of the queue drawn from normal studies so that
# "abnormal" is never a safe guess.
TA_REVIEW_NEW_PER_DAY = int(env("TA_REVIEW_NEW_PER_DAY", "10"))
TA_REVIEW_NORMAL_SHARE = float(env("TA_REVIEW_NORMAL_SHARE", "0.2"))


LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Upload limits: a whole study can be large; a zip is checked entry by entry against these.
# Request bodies are streamed to temporary files in TA_RAW_HOLDING_ROOT/incoming, never held in
# memory (archive/services/incoming.py, which replaces Django's handlers and so needs no
# FILE_UPLOAD_TEMP_DIR); each limit is refused with a reason as the bytes arrive.
FILE_UPLOAD_HANDLERS = ["archive.services.incoming.HoldingUploadHandler"]
# The handler counts files itself so that too many is refused with a sentence, not a bare 400.
DATA_UPLOAD_MAX_NUMBER_FILES = None
TA_MAX_FILES_PER_REQUEST = int(env("TA_MAX_FILES_PER_REQUEST", "2000"))
# One file (or one zip entry, unpacked); TA_MAX_UPLOAD_BYTES is its former name.
TA_MAX_FILE_BYTES = int(env("TA_MAX_FILE_BYTES", env("TA_MAX_UPLOAD_BYTES", str(2 * 1024**3))))
TA_MAX_UPLOAD_BYTES = TA_MAX_FILE_BYTES  # the name the DICOM listener reads
# One request body (browser upload or STOW-RS), refused from its Content-Length before it is read.
TA_MAX_REQUEST_BYTES = int(env("TA_MAX_REQUEST_BYTES", str(4 * 1024**3)))
# Everything one upload stores in the holding area, zip entries unpacked.
TA_MAX_UPLOAD_TOTAL_BYTES = int(env("TA_MAX_UPLOAD_TOTAL_BYTES", str(8 * 1024**3)))
TA_MAX_ZIP_ENTRIES = int(env("TA_MAX_ZIP_ENTRIES", "20000"))
# Browser and STOW-RS uploads one teacher may send per hour (0: no limit); past it the upload is
# refused (HTTP 429) with a sentence saying when to try again.
TA_UPLOADS_PER_HOUR = int(env("TA_UPLOADS_PER_HOUR", "120"))
TA_MAX_ZIP_RATIO = int(env("TA_MAX_ZIP_RATIO", "100"))
# A worker's claim on an upload item (taken before de-identifying it outside any transaction)
# expires after this many seconds, so the item of a killed worker is taken again by the next
# delivery of its task; the Redis visibility timeout by default.
TA_ITEM_CLAIM_SECONDS = int(env("TA_ITEM_CLAIM_SECONDS", env("TA_VISIBILITY_TIMEOUT", "600")))
# Runs of one item that may die (OOM killer, hard time limit, crash) before it is quarantined as
# "could not be processed safely" instead of being tried again.
TA_ITEM_MAX_ATTEMPTS = int(env("TA_ITEM_MAX_ATTEMPTS", "2"))

# Hostile and pathological input (archive/deid/limits.py): what one file may declare and hold,
# checked before anything is decoded; a file over a limit is rejected with the reason.
TA_MAX_FRAME_PIXEL_BYTES = int(env("TA_MAX_FRAME_PIXEL_BYTES", str(200 * 1024**2)))
TA_MAX_INSTANCE_PIXEL_BYTES = int(env("TA_MAX_INSTANCE_PIXEL_BYTES", str(4 * 1024**3)))
TA_MAX_SEQUENCE_DEPTH = int(env("TA_MAX_SEQUENCE_DEPTH", "32"))
TA_MAX_ELEMENTS = int(env("TA_MAX_ELEMENTS", "200000"))
TA_MAX_VALUE_BYTES = int(env("TA_MAX_VALUE_BYTES", str(64 * 1024**2)))

# De-identification secrets. The UID and pseudonym keys must stay the same for the life of the
# archive (they make the mapping consistent across uploads) and are never stored with the data.
DEID_UID_KEY = _KEYS["TA_DEID_UID_KEY"]
DEID_PSEUDONYM_KEY = _KEYS["TA_DEID_PSEUDONYM_KEY"]
DEID_UID_ROOT = env("TA_DEID_UID_ROOT", "")

# De-identification profile: the options of PS3.15 Table E.1-1 the archive applies on top of
# the Basic Profile, comma-separated (docs/deid-profile.md explains each; `manage.py
# deid_profile` prints the result attribute by attribute for the privacy officer). Checked
# here, so no process starts with an unknown or contradictory option; Full Dates and Retain
# UIDs keep values that identify patients and also need TA_DEID_ACCEPT_IDENTIFYING_OPTIONS
# (full-dates, retain-uids) to name them.
DEID_PROFILE = env("TA_DEID_PROFILE", ",".join(DEFAULT_DEID_PROFILE))
DEID_ACCEPT_IDENTIFYING_OPTIONS = env("TA_DEID_ACCEPT_IDENTIFYING_OPTIONS", "")
deid_profile_from(DEID_PROFILE, DEID_ACCEPT_IDENTIFYING_OPTIONS)

# Celery. Tasks take ids only; late acks + reject on worker loss so a killed worker loses nothing.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Per task (a chunk of TA_DEID_CHUNK_FILES files): at the soft limit the file in work is
# quarantined as "could not be processed safely within the time limit" and the chunk's other
# files go to a new task; at the hard limit the worker's child is killed and the chunk sent
# again, which counts an attempt of the file in work (TA_ITEM_MAX_ATTEMPTS).
CELERY_TASK_TIME_LIMIT = int(env("TA_TASK_TIME_LIMIT", "3600"))
CELERY_TASK_SOFT_TIME_LIMIT = int(
    env("TA_TASK_SOFT_TIME_LIMIT", str(max(CELERY_TASK_TIME_LIMIT - 60, 1)))
)
# A worker child whose resident memory grew past this after a task is replaced by a fresh one
# (prefork pool; KiB for Celery). During a task, the declared-size limits bound the memory;
# the kernel's OOM killer is the last resort, and a file whose worker died
# TA_ITEM_MAX_ATTEMPTS times is quarantined.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(env("TA_WORKER_MAX_MEMORY_MB", "2048")) * 1024
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # How long a delivered but unacknowledged task waits before Redis hands it out again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(env("TA_VISIBILITY_TIMEOUT", "600"))
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# One queue per kind of work (archive/scheduling.py): deidentify, redact, index, housekeeping.
# A worker started without -Q consumes them all; production runs workers per queue.
CELERY_TASK_QUEUES = {name: {"routing_key": name} for name in _scheduling.QUEUES}
CELERY_TASK_ROUTES = {name: {"queue": queue} for name, queue in _scheduling.ROUTES.items()}
CELERY_TASK_DEFAULT_QUEUE = _scheduling.HOUSEKEEPING
# An upload is processed in chunks of at most this many files and bytes, one task each, spread
# over every free worker (the task overhead stays under ~5 % of the work; see scheduling.py).
TA_DEID_CHUNK_FILES = int(env("TA_DEID_CHUNK_FILES", "4"))
TA_DEID_CHUNK_BYTES = int(env("TA_DEID_CHUNK_BYTES", str(8 * 1024**2)))
# Beat (run by `make run` inside the worker, a `beat` service in docker-compose): housekeeping.
CELERY_BEAT_SCHEDULE = {
    "purge-expired-originals": {"task": "archive.purge_originals", "schedule": 3600.0},
    "purge-expired-quarantine": {"task": "archive.purge_quarantine", "schedule": 3600.0},
    "case-reminders": {"task": "archive.case_reminders", "schedule": 86400.0},
}
# Days after publishing (and between reminders) before the author of a case whose diagnosis is
# still unconfirmed (probable, possible) is reminded to attach proof.
TA_PROOF_REMINDER_DAYS = int(env("TA_PROOF_REMINDER_DAYS", "90"))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Search: {"BACKEND": dotted path, "OPTIONS": {...}} as Django's caches and storages.
SEARCH_BACKEND = env("TA_SEARCH_BACKEND", "database")
SEARCH_BACKENDS = {
    "database": {"BACKEND": "search.backends.database.DatabaseSearchBackend", "OPTIONS": {}},
    "elasticsearch": {
        "BACKEND": "search.backends.elasticsearch.ElasticsearchSearchBackend",
        "OPTIONS": {
            "URL": env("ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
            "INDEX_PREFIX": env("TA_ES_INDEX_PREFIX", "teaching-archive"),
        },
    },
    # The same backend for an Elasticsearch 7.x node (the one the test suite runs from Maven).
    "elasticsearch7": {
        "BACKEND": "search.backends.elasticsearch7.Elasticsearch7SearchBackend",
        "OPTIONS": {
            "URL": env("ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
            "INDEX_PREFIX": env("TA_ES_INDEX_PREFIX", "teaching-archive"),
        },
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("TA_LOG_LEVEL", "INFO")},
    # axes logs a line per successful login at INFO; its lock-outs are WARNINGs and stay.
    "loggers": {
        "django.request": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # pydicom's warnings and errors quote the values they complain about (a patient's name
        # in a malformed element, found by the fuzzer in tests/hostile): never in the logs.
        # The archive logs what went wrong itself, by exception type only.
        "pydicom": {"level": "CRITICAL", "propagate": False, "handlers": []},
    },
}

# --- Caches -------------------------------------------------------------------------------
# Short-lived state that every web process must see alike (the DICOMweb Basic verdicts of
# archive/dicomweb/auth.py, the database search backend's pages). Production shares the Redis it
# already runs for Celery (TA_CACHE_URL to use another one); the embedded setup is one machine,
# where a per-process memory cache is enough: each gunicorn worker then checks a bad header at
# most once per verdict period, and the login lock-out counts live in the database anyway.
_CACHE_URL = env(
    "TA_CACHE_URL",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "locmem://",
)
if _CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            "KEY_PREFIX": "ta-cache",
        }
    }
elif _CACHE_URL == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured("TA_CACHE_URL must be redis://host:port/db or locmem://.")

# --- HTTPS, cookies and headers ------------------------------------------------------------
# On unless DEBUG is: HTTP redirects to HTTPS, HSTS, cookies only over HTTPS. `make run` serves
# plain http on 127.0.0.1 for a laptop, so scripts/run.sh sets TA_HTTPS=0.
TA_HTTPS = env_bool("TA_HTTPS", not DEBUG)

# Test-only hooks (tests/hostile, tests/archive): a worker kills itself, or the engine fails,
# while processing the file with this SHA-256. Refused on an HTTPS (production) setup, and
# `check --deploy` reports them.
TA_TEST_HOOKS = env_bool("TA_TEST_HOOKS", False)
if TA_TEST_HOOKS and TA_HTTPS:
    raise ImproperlyConfigured("TA_TEST_HOOKS is for the test suite only; unset it.")
TA_TEST_KILL_WORKER_ON_SHA256 = env("TA_TEST_KILL_WORKER_ON_SHA256", "") if TA_TEST_HOOKS else ""
TA_TEST_FAIL_ON_SHA256 = env("TA_TEST_FAIL_ON_SHA256", "") if TA_TEST_HOOKS else ""
TA_TEST_SLOW_ON_SHA256 = env("TA_TEST_SLOW_ON_SHA256", "") if TA_TEST_HOOKS else ""
SECURE_SSL_REDIRECT = TA_HTTPS
SESSION_COOKIE_SECURE = TA_HTTPS
CSRF_COOKIE_SECURE = TA_HTTPS
SECURE_HSTS_SECONDS = int(env("TA_HSTS_SECONDS", "31536000")) if TA_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TA_HSTS_INCLUDE_SUBDOMAINS", True)
# Inert until someone submits the domain to the browsers' preload list (registrable domains only).
SECURE_HSTS_PRELOAD = env_bool("TA_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Reverse proxies in front of gunicorn (addresses or networks, comma-separated). Only a request
# from one of them has its X-Forwarded-For believed (for the login lock-out's client address) and
# its X-Forwarded-Proto: https taken as HTTPS; without any, the peer address is the client.
TA_TRUSTED_PROXIES = [p.strip() for p in env("TA_TRUSTED_PROXIES", "").split(",") if p.strip()]
for _proxy in TA_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as e:
        raise ImproperlyConfigured(
            f"TA_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 10.0.0.0/8)."
        ) from e
if TA_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): only the site's own scripts, styles, images and fetches;
# no inline script or style anywhere, no framing, forms post only here. The viewer needs no
# exception: a same-origin module script and module worker (worker-src falls back to
# script-src), no WebAssembly (frames arrive uncompressed), styles set through the CSSOM.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Login throttling (django-axes) ----------------------------------------------------------
# Every login path (/accounts/login/, /admin/login/, DICOMweb HTTP Basic) goes through
# authenticate(); failures are counted in the database (shared by every process and machine)
# per username and per client address, separately. Once locked, a username or address is
# refused for the cool-off period without running the password hasher, even with the right
# password; an administrator can unlock it earlier in the admin (Axes › Access attempts).
AXES_HANDLER = "archive.throttling.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(env("TA_LOGIN_FAILURES_PER_USER", "5"))
# Higher: a whole classroom may reach the archive from one school address.
TA_LOGIN_FAILURES_PER_ADDRESS = int(env("TA_LOGIN_FAILURES_PER_ADDRESS", "20"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=float(env("TA_LOGIN_COOLOFF_MINUTES", "15")))
# Attempts during a lock-out are not recorded: they neither extend it nor cost a database write.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "archive.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "archive.throttling.lockout_response"
# No row per successful login (who logged in from where is not the archive's business).
AXES_DISABLE_ACCESS_LOG = True

# --- DICOM listener and DICOMweb (archive/dimse, archive/dicomweb) ---------------------------
# The listener binds to localhost unless told otherwise: a PACS on another host needs
# TA_DICOM_BIND_ADDRESS=0.0.0.0 (and a firewall that only lets registered nodes in).
TA_DICOM_AE_TITLE = env("TA_DICOM_AE_TITLE", "TEACHARCHIVE")
TA_DICOM_BIND_ADDRESS = env("TA_DICOM_BIND_ADDRESS", "127.0.0.1")
TA_DICOM_PORT = int(env("TA_DICOM_PORT", "11112"))
TA_DICOM_MAX_ASSOCIATIONS = int(env("TA_DICOM_MAX_ASSOCIATIONS", "10"))
# Per calling AE title: open associations (more are rejected "transient, local limit exceeded")
# and bytes received in one association (C-STOREs past it answered A700 Out of Resources).
TA_DICOM_MAX_ASSOCIATIONS_PER_AE = int(env("TA_DICOM_MAX_ASSOCIATIONS_PER_AE", "4"))
TA_DICOM_MAX_ASSOCIATION_BYTES = int(env("TA_DICOM_MAX_ASSOCIATION_BYTES", str(16 * 1024**3)))
# Seconds of silence after which a slow peer's association is aborted (and its files discarded).
TA_DICOM_NETWORK_TIMEOUT = int(env("TA_DICOM_NETWORK_TIMEOUT", "60"))
# While an association is open, its received instances are filed (as an upload still receiving,
# seen by nobody) and de-identified in batches of this many instances, or after this many
# seconds, whichever comes first; the rest is filed on release.
TA_DICOM_BATCH_FILES = int(env("TA_DICOM_BATCH_FILES", "8"))
TA_DICOM_BATCH_SECONDS = float(env("TA_DICOM_BATCH_SECONDS", "2"))
# The public address of the site (scheme, host, port; no path), e.g. https://archive.example.org:
# DICOMweb's RetrieveURL and BulkDataURI values start with it. Unset: the request's own scheme,
# host and port (right unless a reverse proxy changes the address; then set this).
TA_EXTERNAL_URL = env("TA_EXTERNAL_URL", "").rstrip("/")
if TA_EXTERNAL_URL and not re.match(r"^https?://[^/]+$", TA_EXTERNAL_URL):
    raise ImproperlyConfigured(
        "TA_EXTERNAL_URL must be a scheme and host with an optional port and no path, "
        "e.g. https://archive.example.org or http://127.0.0.1:8000."
    )
# The worker registers the listener's follow-up task (IHE TCE key objects) and the case
# packages' (key images attached once an imported package's images are processed).
CELERY_IMPORTS = ["archive.dimse.tasks", "archive.packages.tasks"]
# --- Case packages (archive/packages): the licence written into every exported case.
TA_PACKAGE_LICENCE = env("TA_PACKAGE_LICENCE", "CC BY-NC-SA 4.0")
