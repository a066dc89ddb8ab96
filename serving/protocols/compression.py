"""Compressed request and response bodies on the prediction protocols (gzip and deflate).

tritonclient sends `Content-Encoding: gzip|deflate` with `request_compression_algorithm=` and asks
for a compressed answer with `Accept-Encoding` (`response_compression_algorithm=`). A request body
is inflated in bounded steps: it may never grow past the predict body limit, so a small "gzip
bomb" costs at most that much memory and is refused with 413 instead of exhausting the process.
"""

from __future__ import annotations

import zlib

from serving.replies import ProtocolError

# wbits: 16 + MAX_WBITS reads a gzip wrapper; MAX_WBITS a zlib stream (HTTP "deflate");
# -MAX_WBITS a raw deflate stream, which some clients send as "deflate" too.
_GZIP, _ZLIB, _RAW = 16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS
_CHUNK = 1 << 20


def decode_body(body: bytes, encoding: str | None, *, limit: int) -> bytes:
    """The body without its Content-Encoding; 413 past `limit` bytes, 415 for an unknown coding,
    400 for a corrupt stream."""
    coding = (encoding or "").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, _GZIP, coding, limit)
    if coding == "deflate":
        try:
            return _inflate(body, _ZLIB, coding, limit)
        except ProtocolError as error:
            if error.status != 400:
                raise
            return _inflate(body, _RAW, coding, limit)
    raise ProtocolError(
        415,
        f"Content-Encoding {encoding!r} is not supported; use gzip, deflate or identity",
        "unsupported_encoding",
    )


def _inflate(body: bytes, wbits: int, coding: str, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            # At most limit + 1 bytes out in total: enough to know the body is too large.
            piece = inflater.decompress(data, min(_CHUNK, limit + 1 - size))
            parts.append(piece)
            size += len(piece)
            if size > limit:
                raise ProtocolError(
                    413,
                    f"the {coding} request body inflates past the limit of {limit} bytes",
                    "too_large",
                )
            data = inflater.unconsumed_tail
            if not data:
                break
        tail = inflater.flush()
    except zlib.error as exc:
        raise ProtocolError(400, f"corrupt {coding} request body: {exc}", "invalid") from None
    if size + len(tail) > limit:
        raise ProtocolError(
            413, f"the {coding} request body inflates past the limit of {limit} bytes", "too_large"
        )
    if not inflater.eof:
        raise ProtocolError(400, f"truncated {coding} request body", "invalid")
    parts.append(tail)
    return b"".join(parts)


def choose_encoding(accept: str | None) -> str | None:
    """gzip or deflate when `Accept-Encoding` allows one (q > 0), gzip first; else None."""
    if not accept:
        return None
    allowed: dict[str, float] = {}
    for item in accept.split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[name.strip().lower()] = quality
    for coding in ("gzip", "deflate"):
        quality = allowed.get(coding, allowed.get("*", 0.0) if coding == "gzip" else 0.0)
        if quality > 0:
            return coding
    return None


def encode_body(body: bytes, coding: str) -> bytes:
    """Compress an answer (level 1: the point is fewer bytes on the wire, cheaply)."""
    if coding == "gzip":
        compressor = zlib.compressobj(1, zlib.DEFLATED, _GZIP)
    else:
        compressor = zlib.compressobj(1, zlib.DEFLATED, _ZLIB)
    return compressor.compress(body) + compressor.flush()
