"""The client's address: the one function every limit, audit entry and allow-list uses.

Behind proxies, X-Forwarded-For reads `<whatever the client sent>, <client>, <proxy 1>, ...`:
each proxy appends the address it received the connection from. Only the entries our own proxies
appended are trustworthy, so the address is taken from the right, never the client's own value:
- MODELGATE_TRUSTED_PROXY_HOPS = N: the N-th entry from the right (N proxies in front of us);
- MODELGATE_TRUSTED_PROXIES = networks: X-Forwarded-For counts only when the peer (REMOTE_ADDR)
  is one of them; walk from the right past every address inside them (at most N when both set).
Neither set (the default): REMOTE_ADDR, X-Forwarded-For ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(raw) -> tuple:
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw or ())


def trusted_networks() -> tuple:
    raw = settings.MODELGATE_TRUSTED_PROXIES
    return _networks(raw if isinstance(raw, str) else tuple(raw))


def _parse(value: str | None):
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _inside(address, networks) -> bool:
    return address is not None and any(address in net for net in networks)


def client_ip(environ) -> str | None:
    """The client's IP from a WSGI environ or request.META; None when nothing parses."""
    remote = _parse(environ.get("REMOTE_ADDR"))
    hops = int(settings.MODELGATE_TRUSTED_PROXY_HOPS)
    networks = trusted_networks()
    if hops <= 0 and not networks:
        return str(remote) if remote else None
    if networks and not _inside(remote, networks):
        return str(remote) if remote else None  # a direct connection: its header means nothing
    chain = [part for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not chain:
        return str(remote) if remote else None
    if networks:
        candidate, steps = remote, 0
        while chain and _inside(candidate, networks) and (hops <= 0 or steps < hops):
            candidate, steps = _parse(chain.pop()), steps + 1
    else:
        # Fewer entries than hops: the first proxy was skipped; its successor's entry is the peer.
        candidate = _parse(chain[-hops] if len(chain) >= hops else chain[0])
    return str(candidate) if candidate else None
