"""Settings of the demo shop site, from the environment.

SHOPSITE_DB: the SQLite file of Django's own tables (users, sessions);
the orders stay in PostgreSQL, where Apache reads them.
SHOPSITE_KEY_FILE: Apache's OrderStreamTokenKey file; its first line signs.
SHOPSITE_EXPORT: the customer's export's Location (default /shop/orders);
SHOPSITE_ALL_EXPORT: the staff's export of every order (default /shop/all).
"""
import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))


def _first_key(path):
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return next((line.rstrip("\r\n") for line in f if line.strip()), None)


# Django's own secret (sessions, CSRF): a demo's, never the export key.
SECRET_KEY = os.environ.get("SHOPSITE_SECRET", "demo-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "shopsite",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "shopsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOPSITE_DB", ":memory:"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders"

ORDERSTREAM_KEY = _first_key(os.environ.get("SHOPSITE_KEY_FILE"))
ORDERSTREAM_SALT = "orderstream"
SHOPSITE_EXPORT = os.environ.get("SHOPSITE_EXPORT", "/shop/orders")
SHOPSITE_ALL_EXPORT = os.environ.get("SHOPSITE_ALL_EXPORT", "/shop/all")
