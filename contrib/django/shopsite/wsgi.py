"""WSGI entry of the shop site, for mod_wsgi.

mod_wsgi does not pass Apache's SetEnv to os.environ: the settings'
SHOPSITE_* variables are copied from the first request's environ.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

_application = None


def application(environ, start_response):
    global _application
    if _application is None:
        for name in ("SHOPSITE_DB", "SHOPSITE_KEY_FILE", "SHOPSITE_EXPORT",
                     "SHOPSITE_SECRET"):
            if name in environ:
                os.environ.setdefault(name, environ[name])
        from django.core.wsgi import get_wsgi_application

        _application = get_wsgi_application()
    return _application(environ, start_response)
