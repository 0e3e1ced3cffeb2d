"""Hand an export over to mod_orderstream from a Django view.

The view decides who may download what; Apache's mod_orderstream streams
the rows. What passes between them is a token in the format of Django's
own ``django.core.signing.dumps``: a JSON object of claims, signed with a
key that Apache also holds (``OrderStreamTokenKey``), naming the export it
opens (``"export"``) and carrying the values the export binds
(``OrderStreamParam ... claim=KEY``, ``OrderStreamRole claim=KEY``,
``OrderStreamSetting NAME claim=KEY``).

Two ways to hand over:

- ``handoff(request, export, **claims)``: under mod_wsgi's daemon mode, a
  response of status 200 with a local ``Location`` makes mod_wsgi redirect
  internally: Apache streams the export in its own process and the Django
  thread is free at once; the token never reaches the browser. Elsewhere
  (embedded mode, gunicorn behind a proxy) it is a 303 to the same URL.
- ``signed_url(export, max_age, **claims)``: a link to put in a page or an
  e-mail ("your export is ready").

Settings, read at each call:

- ``ORDERSTREAM_KEY``: the signing key, one of the lines of Apache's
  ``OrderStreamTokenKey`` file. Never ``SECRET_KEY``.
- ``ORDERSTREAM_SALT``: ``OrderStreamToken``'s ``salt=`` (default
  ``"orderstream"``).
- ``ORDERSTREAM_PARAM``: its ``param=`` (default ``"token"``).
- ``ORDERSTREAM_HANDOFF_MAX_AGE``: seconds a hand-off token lives (default
  30): it is used at once, by Apache or by the browser following the 303.
"""
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect

__all__ = ["signed_url", "handoff"]


def _setting(name, default=None):
    value = getattr(settings, name, default)
    if value is None:
        raise ValueError("settings.%s is not set" % name)
    return value


def token(export, max_age=None, **claims):
    """Return the signed token for ``export`` (its URL path) and ``claims``.

    ``max_age`` (seconds), when given, is signed into the claims: Apache
    then refuses the token after the shorter of it and the Location's own
    ``max-age=``.
    """
    if not export.startswith("/"):
        raise ValueError("export must be a URL path starting with /")
    claims = dict(claims, export=export)
    if max_age is not None:
        claims["max_age"] = int(max_age)
    # SHA-256 named, so that Django 3.2's DEFAULT_HASHING_ALGORITHM
    # ("sha1" on projects still in transition) cannot change the format.
    signer = signing.TimestampSigner(
        key=_setting("ORDERSTREAM_KEY"),
        salt=_setting("ORDERSTREAM_SALT", "orderstream"),
        algorithm="sha256",
    )
    return signer.sign_object(claims)


def signed_url(export, max_age=None, params=None, **claims):
    """Return ``export``'s URL with a token for ``claims`` in its query.

    ``params`` is a dict of other query parameters (``{"format": "xlsx"}``).
    """
    query = dict(params or {})
    query[_setting("ORDERSTREAM_PARAM", "token")] = token(
        export, max_age=max_age, **claims
    )
    return "%s?%s" % (export, urlencode(query))


def _daemon_mode(request):
    """Whether mod_wsgi runs this request in a daemon process group."""
    return bool(request.META.get("mod_wsgi.process_group"))


def handoff(request, export, max_age=None, params=None, **claims):
    """Return the response that hands ``export`` to Apache for ``claims``.

    Under mod_wsgi's daemon mode: 200 with a ``Location`` header, which
    mod_wsgi turns into an internal redirect. Otherwise: a 303 to the
    same URL. The token lives ``max_age`` seconds (default
    ``settings.ORDERSTREAM_HANDOFF_MAX_AGE``, 30).
    """
    if max_age is None:
        max_age = _setting("ORDERSTREAM_HANDOFF_MAX_AGE", 30)
    url = signed_url(export, max_age=max_age, params=params, **claims)
    if _daemon_mode(request):
        response = HttpResponse(status=200)
        response["Location"] = url
    else:
        response = HttpResponseRedirect(url, status=303)
    # A response for one user that holds a credential: no cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response
