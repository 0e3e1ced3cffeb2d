"""Unit tests of orderstream.py and the shop site, with Django's test client
(no server): make unit runs them as

    cd contrib/django && /usr/bin/python3 manage.py test shopsite
"""
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.models import User
from django.core import signing
from django.test import RequestFactory, TestCase, override_settings

import orderstream

KEY = "unit-test-key"


def claims_of(url, key=KEY, salt="orderstream", max_age=60):
    """The claims of the token in url, as Django itself reads them."""
    token = parse_qs(urlsplit(url).query)["token"][0]
    return signing.loads(token, key=key, salt=salt, max_age=max_age)


@override_settings(ORDERSTREAM_KEY=KEY, SHOPSITE_EXPORT="/shop/orders")
class SignedUrlTests(TestCase):
    def test_claims_and_export(self):
        url = orderstream.signed_url("/shop/orders", email="a@example.com")
        self.assertTrue(url.startswith("/shop/orders?token="))
        self.assertEqual(claims_of(url),
                         {"export": "/shop/orders", "email": "a@example.com"})

    def test_max_age_is_signed(self):
        url = orderstream.signed_url("/x", max_age=600, params={"format": "csv"})
        self.assertEqual(claims_of(url)["max_age"], 600)
        self.assertEqual(parse_qs(urlsplit(url).query)["format"], ["csv"])

    def test_export_is_a_path(self):
        with self.assertRaises(ValueError):
            orderstream.signed_url("x")

    def test_settings_read_at_call_time(self):
        with override_settings(ORDERSTREAM_SALT="other", ORDERSTREAM_PARAM="t"):
            url = orderstream.signed_url("/x")
        token = parse_qs(urlsplit(url).query)["t"][0]
        self.assertEqual(signing.loads(token, key=KEY, salt="other")["export"], "/x")
        with self.assertRaises(signing.BadSignature):
            signing.loads(token, key=KEY, salt="orderstream")

    def test_no_key(self):
        with override_settings(ORDERSTREAM_KEY=None):
            with self.assertRaises(ValueError):
                orderstream.signed_url("/x")

    def test_handoff_daemon_mode_and_not(self):
        rf = RequestFactory()
        embedded = orderstream.handoff(rf.get("/"), "/x", email="e")
        self.assertEqual(embedded.status_code, 303)
        daemon = orderstream.handoff(
            rf.get("/", **{"mod_wsgi.process_group": "shop"}), "/x", email="e")
        self.assertEqual(daemon.status_code, 200)
        self.assertEqual(claims_of(daemon["Location"])["email"], "e")
        self.assertEqual(claims_of(daemon["Location"])["max_age"], 30)
        self.assertIn("no-store", daemon["Cache-Control"])


@override_settings(ORDERSTREAM_KEY=KEY, SHOPSITE_EXPORT="/shop/orders")
class SiteTests(TestCase):
    def setUp(self):
        User.objects.create_user("ann@example.com", "ann@example.com", "pw-ann")

    def test_logged_out_goes_to_login(self):
        res = self.client.get("/export/csv/")
        self.assertEqual(res.status_code, 302)
        self.assertIn("/login/", res["Location"])

    def test_login_then_handoff(self):
        res = self.client.post("/login/", {"username": "ann@example.com",
                                           "password": "pw-ann"})
        self.assertEqual(res.status_code, 302)
        self.assertContains(self.client.get("/"), "ann@example.com")
        res = self.client.get("/export/xlsx/")
        self.assertEqual(res.status_code, 303)
        claims = claims_of(res["Location"])
        self.assertEqual(claims["email"], "ann@example.com")
        self.assertEqual(claims["export"], "/shop/orders")
        self.assertEqual(parse_qs(urlsplit(res["Location"]).query)["format"],
                         ["xlsx"])
        self.assertEqual(self.client.get("/export/pdf/").status_code, 404)
