#!/usr/bin/python3
"""Known-answer vectors for src/export/os_token.c, made by Django itself.

Writes t/unit/token_vectors.h (committed; regenerate with
    /usr/bin/python3 t/unit/token_vectors.py > t/unit/token_vectors.h
). Each vector is what django.core.signing.dumps() returned with the
clock pinned to T, so the C test can check it at T + some seconds.
"""
import time
from unittest import mock

import django
from django.conf import settings

settings.configure()  # no SECRET_KEY: every key is passed explicitly
from django.core import signing  # noqa: E402

T = 1700000000
K1 = "k1-!@#$%^&*(-_=+)-old-key"
K2 = "k2-rotated-in-key"
K3 = "k3-not-in-the-file"
SALT = "orderstream"
EXPORT = "/my/orders.csv"


def dumps(obj, key=K1, salt=SALT, at=T, compress=False):
    with mock.patch("time.time", return_value=at + 0.75):
        return signing.dumps(obj, key=key, salt=salt, compress=compress)


# name, token, key file lines, now - T, expected result, claim to check
VECTORS = [
    ("basic", dumps({"export": EXPORT, "email": "ann@example.com"}),
     10, "VALID", ("email", "ann@example.com")),
    ("age equal to max-age", dumps({"export": EXPORT}), 60, "VALID", None),
    ("a second past max-age", dumps({"export": EXPORT}), 61, "EXPIRED", None),
    ("unicode claim", dumps({"export": EXPORT, "name": "Zo\u00eb \u2713"}),
     0, "VALID", ("name", "Zo\u00eb \u2713")),
    ("integer, bool, null", dumps({"export": EXPORT, "id": 42, "vip": True,
                                   "note": None}),
     0, "VALID", ("id", "42")),
    ("bool false", dumps({"export": EXPORT, "vip": False}), 0, "VALID",
     ("vip", "false")),
    ("rotated-in key", dumps({"export": EXPORT}, key=K2), 0, "VALID", None),
    ("key not in the file", dumps({"export": EXPORT}, key=K3), 0, "REFUSED",
     None),
    ("wrong salt", dumps({"export": EXPORT}, salt="other"), 0, "REFUSED",
     None),
    ("compressed", dumps({"export": EXPORT, "pad": "x" * 200},
                         compress=True), 0, "REFUSED", None),
    ("nested object", dumps({"export": EXPORT, "x": {"a": 1}}), 0, "REFUSED",
     None),
    ("nested list", dumps({"export": EXPORT, "x": [1]}), 0, "REFUSED", None),
    ("not an object", dumps([EXPORT]), 0, "REFUSED", None),
    ("a string", dumps(EXPORT), 0, "REFUSED", None),
    ("fractional claim", dumps({"export": EXPORT, "x": 1.5}), 0, "REFUSED",
     None),
    ("another export", dumps({"export": "/my/other.csv"}), 0, "REFUSED",
     None),
    ("no export", dumps({"email": "ann@example.com"}), 0, "REFUSED", None),
    ("export not a string", dumps({"export": 1}), 0, "REFUSED", None),
    ("61 s ahead", dumps({"export": EXPORT}, at=T + 61), 0, "REFUSED", None),
    ("60 s ahead", dumps({"export": EXPORT}, at=T + 60), 0, "VALID", None),
    ("max_age claim, within", dumps({"export": EXPORT, "max_age": 5}), 5,
     "VALID", None),
    ("max_age claim, past", dumps({"export": EXPORT, "max_age": 5}), 6,
     "EXPIRED", None),
    ("max_age claim cannot lengthen",
     dumps({"export": EXPORT, "max_age": 600}), 61, "EXPIRED", None),
    ("max_age claim not an integer",
     dumps({"export": EXPORT, "max_age": "5"}), 0, "REFUSED", None),
]


def c(s):
    out = '"'
    for b in s.encode():
        if b in (0x22, 0x5C) or b < 0x20 or b > 0x7E:
            out += "\\%03o" % b
        else:
            out += chr(b)
    return out + '"'


print("/* token_vectors.h: made by Django %s with" % django.get_version())
print(" *   /usr/bin/python3 t/unit/token_vectors.py > t/unit/token_vectors.h")
print(" * (see there). Do not edit. */")
print("#define TV_T %d" % T)
print("#define TV_K1 %s" % c(K1))
print("#define TV_K2 %s" % c(K2))
print("#define TV_K3 %s" % c(K3))
print("#define TV_SALT %s" % c(SALT))
print("#define TV_EXPORT %s" % c(EXPORT))
print("#define TV_MAX_AGE 60")
print("static const struct tv {")
print("    const char *name, *token;")
print("    int after;")
print("    os_token_result want;")
print("    const char *claim, *value;")
print("} tvs[] = {")
for name, token, after, want, cl in VECTORS:
    k, v = cl if cl else (None, None)
    print("    { %s,\n      %s,\n      %d, OS_TOKEN_%s, %s, %s }," % (
        c(name), c(token), after, want, c(k) if k else "NULL",
        c(v) if v else "NULL"))
print("};")
