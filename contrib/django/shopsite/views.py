"""The shop site's views: the "My orders" page and its export buttons."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

import orderstream

FORMATS = {"csv": "CSV", "xlsx": "Excel", "ndjson": "NDJSON"}


@login_required
def orders(request):
    """The customer's page, with one button per format."""
    return render(request, "orders.html", {"formats": FORMATS})


@login_required
def export(request, fmt):
    """Hand the logged-in customer's orders to Apache: the whole view."""
    if fmt not in FORMATS:
        raise Http404("no such format")
    return orderstream.handoff(
        request,
        settings.SHOPSITE_EXPORT,
        params={"format": fmt},
        email=request.user.email,
        role="shop_customer",
    )


@login_required
def export_all(request, fmt):
    """Every order of the shop, for the shop's staff."""
    if not request.user.is_staff:
        raise Http404("staff only")
    return orderstream.handoff(request, settings.SHOPSITE_ALL_EXPORT,
                               params={"format": fmt})


def ping(request):
    """A page that needs no database: is a daemon thread free?"""
    return HttpResponse("pong\n", content_type="text/plain")
