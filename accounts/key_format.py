"""API-key format: generation, checksum, parsing and hashing.

Pure functions with no database: a key is parsed before its first lookup. Where a request
carries the key is in accounts/keys.py, with authenticating it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

from accounts.constants import KEY_CHECKSUM_LENGTH, KEY_ID_LENGTH, KEY_PREFIX, KEY_SECRET_LENGTH

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# `mg_<env>_` leaves room for test-mode keys later; the secret length may grow, never shrink.
KEY_RE = re.compile(
    rf"^mg_(?P<env>[a-z]{{2,8}})_(?P<prefix>[a-z2-7]{{{KEY_ID_LENGTH}}})_"
    rf"(?P<secret>[A-Za-z0-9_-]{{{KEY_SECRET_LENGTH},128}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{KEY_CHECKSUM_LENGTH}}})$"
)


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode("ascii"))
    chars = []
    for _ in range(KEY_CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars))


def hash_secret(secret: str) -> str:
    """The stored form of a secret: sha256 hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def generate_key(prefix: str | None = None) -> tuple[str, str, str]:
    """A fresh key: returns (raw key, prefix, hashed secret). Rotation keeps the prefix."""
    if prefix is None:
        prefix = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:KEY_ID_LENGTH]
    secret = secrets.token_urlsafe(24)[:KEY_SECRET_LENGTH]
    body = f"{KEY_PREFIX}{prefix}_{secret}"
    return body + _checksum(body), prefix, hash_secret(secret)


def parse_key(raw: str | None) -> ParsedKey | None:
    """Format and checksum check; no database. None for anything that is not a well-formed key."""
    if not raw or len(raw) > 200:
        return None
    match = KEY_RE.match(raw)
    if match is None:
        return None
    body, checksum = raw[:-KEY_CHECKSUM_LENGTH], match["checksum"]
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    return ParsedKey(prefix=match["prefix"], secret=match["secret"])


def looks_like_key(value: str) -> bool:
    """True for a string that parses as a raw key: the audit log redacts these."""
    return parse_key(value) is not None
