"""gRPC callers meet the same per-address throttle on failed key lookups as HTTP callers."""

from __future__ import annotations

import grpc
import pytest

from accounts.key_format import generate_key
from tests.serving.test_grpc_errors import oip_call, refused

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(grpc_port):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        yield channel


def test_random_keys_over_grpc_are_throttled_per_address(channel, deployed, settings, monkeypatch):
    from accounts import ratelimits

    monkeypatch.setattr(ratelimits, "clock", lambda: 1_800_000_000.0)
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "3/m"
    codes = [refused(oip_call, channel, generate_key()[0]).code() for _ in range(5)]
    assert codes[:3] == [grpc.StatusCode.UNAUTHENTICATED] * 3
    assert codes[3:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2


def test_it_reads_the_peer_address():
    from serving.grpc.calls import peer_address

    class Context:
        def __init__(self, peer):
            self._peer = peer

        def peer(self):
            return self._peer

    assert peer_address(Context("ipv4:10.0.0.1:5123")) == "10.0.0.1"
    assert peer_address(Context("ipv6:[::1]:5123")) == "::1"
    assert peer_address(Context("unix:/tmp/sock")) == ""
