"""The erasure key and the keyed hashes made with it.

A request is stored as HMAC-SHA-256 of the normalised email keyed by STEDI_ERASURE_KEY, so the
list of people who asked to be forgotten holds no email, and cannot be checked against a list of
candidate emails without the key. The build computes the same hash in SQL (macro email_hmac).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from stedi_lakehouse.preflight import MINIMUM_SECRET_LENGTH, PreflightError

ERASURE_KEY_ENV = "STEDI_ERASURE_KEY"
# The profile's and the Athena macro's default, for demo builds only: it is public.
DEMO_ERASURE_KEY = "local-demo-erasure-key-not-for-real-data"
# The key reaches Spark SQL inside a string literal (macro email_hmac): no quote, backslash, $ or
# brace may break out of it. Hex or base64 output of a random generator fits, and so do the
# letters and digits of the stack's generated secret (docs/aws.md).
KEY_PATTERN = re.compile(rf"[A-Za-z0-9+/=_.~-]{{{MINIMUM_SECRET_LENGTH},}}")
KEY_ADVICE = "generate one with `openssl rand -hex 32` and keep it in your secret store"


def check_key_format(key: str) -> None:
    """Fail, without showing the key, unless it is long enough and made of hex, base64 or [._~-]."""
    if not KEY_PATTERN.fullmatch(key):
        raise PreflightError(
            f"{ERASURE_KEY_ENV} must be at least {MINIMUM_SECRET_LENGTH} characters of letters, digits and + / = _ . ~ -; {KEY_ADVICE}"
        )


def erasure_key(allow_demo: bool = False) -> bytes:
    """The key from the environment, checked; the public demo key is refused unless allow_demo."""
    key = os.environ.get(ERASURE_KEY_ENV, "")
    if not key:
        raise PreflightError(f"{ERASURE_KEY_ENV} is not set: requests are keyed hashes of emails; {KEY_ADVICE}")
    check_key_format(key)
    if key == DEMO_ERASURE_KEY and not allow_demo:
        raise PreflightError(f"{ERASURE_KEY_ENV} is the public demo key: a real request needs a secret key; {KEY_ADVICE}")
    return key.encode("utf-8")


def normalize_email(email: str) -> str:
    """The form a request hashes: trimmed of any whitespace and lowercased. For an email padded with
    spaces it is lower(trim(email)), what macros/normalize_email.sql gives and the build hashes;
    erase also takes a tab or newline around an email for padding."""
    return email.strip().lower()


def keyed_hash(key: bytes, value: str) -> str:
    """Lowercase hex HMAC-SHA-256 of the UTF-8 value: what the macro email_hmac gives in SQL."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def email_hmac(key: bytes, email: str) -> str:
    return keyed_hash(key, normalize_email(email))
