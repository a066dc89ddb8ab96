"""Per-key rates, bursts and quotas: validation, role ceilings, enforcement on the hot path."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.keys import authenticate_key
from accounts.limits import quota_window
from accounts.ratelimits import flush_usage, quota_hit, reset_rate_limits
from accounts.selectors import api_key_usage
from accounts.services import api_key_create, api_key_update, role_limits_set
from accounts.usage import usage_today
from core.errors import InvalidInput
from core.models import AuditEntry
from serving.gateway import check_rate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """A clean cache and a controlled clock: time stands still unless a test moves it."""
    from django.core.cache import cache

    from accounts import ratelimits

    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimits, "clock", lambda: now[0])
    cache.clear()
    reset_rate_limits()
    yield now
    reset_rate_limits()


def test_it_loads_the_keys_limits_into_the_principal(alice):
    _, raw = api_key_create(
        user=alice,
        name="k",
        scopes=["predict"],
        rate_limit="100/m",
        burst_limit="5/s",
        quota="1000/d",
        actor=alice,
    )
    principal = authenticate_key(raw)
    assert (principal.rate_limit, principal.burst_limit, principal.quota) == (
        "100/m",
        "5/s",
        "1000/d",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rate_limit", "lots", "rate_limit: 'lots' is not a rate"),
        ("rate_limit", "0/m", "rate_limit: '0/m' is not a rate"),
        ("burst_limit", "5/fortnight", "burst_limit: '5/fortnight' is not a rate"),
        ("quota", "100/m", "quota: '100/m' is not a quota"),
    ],
)
def test_it_rejects_malformed_limits(alice, field, value, message):
    with pytest.raises(InvalidInput) as exc:
        api_key_create(user=alice, name="k", scopes=["read"], actor=alice, **{field: value})
    assert exc.value.message.startswith(message)


def test_a_key_holder_stays_within_the_roles_ceiling_but_an_admin_may_not(bob, charlie):
    role_limits_set(role="viewer", max_rate="60/m", max_quota="1000/d", actor=charlie)
    with pytest.raises(InvalidInput, match="rate_limit: 2/s exceeds your role's ceiling of 60/m"):
        api_key_create(user=bob, name="k", scopes=["read"], rate_limit="2/s", actor=bob)
    with pytest.raises(InvalidInput, match="quota: 40000/mo exceeds"):
        api_key_create(user=bob, name="k", scopes=["read"], quota="40000/mo", actor=bob)
    key, _ = api_key_create(user=bob, name="k", scopes=["read"], rate_limit="1/s", actor=bob)
    assert key.rate_limit == "1/s"
    key = api_key_update(key=key, actor=charlie, rate_limit="100/s")
    assert key.rate_limit == "100/s"
    entry = AuditEntry.objects.filter(action="api_key.update").get()
    assert entry.before["rate_limit"] == "1/s" and entry.after["rate_limit"] == "100/s"
    assert entry.actor_label == "charlie"


def test_a_key_without_limits_inherits_its_roles_ceiling(bob, charlie):
    role_limits_set(
        role="viewer", max_rate="30/m", max_burst="3/s", max_quota="500/d", actor=charlie
    )
    _, raw = api_key_create(user=bob, name="k", scopes=["predict"], actor=bob)
    principal = authenticate_key(raw)
    assert (principal.rate_limit, principal.burst_limit, principal.quota) == (
        "30/m",
        "3/s",
        "500/d",
    )
    entry = AuditEntry.objects.get(action="role_limits.set")
    assert entry.target == "role:viewer" and entry.after["max_rate"] == "30/m"


def test_the_predict_default_applies_when_stricter_than_the_ceiling(bob, settings):
    settings.MODELGATE_DEFAULT_RATE_LIMIT = "5/m"
    _, raw = api_key_create(user=bob, name="k", scopes=["predict"], actor=bob)
    assert authenticate_key(raw).rate_limit == "5/m"


def test_only_an_admin_sets_ceilings(alice):
    from core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        role_limits_set(role="viewer", max_rate="1/m", actor=alice)


def test_the_burst_refuses_before_the_minute_rate(alice):
    _, raw = api_key_create(
        user=alice, name="k", scopes=["predict"], rate_limit="100/m", burst_limit="3/s"
    )
    principal = authenticate_key(raw)
    decisions = [check_rate(principal) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[-1].code == "rate_limited" and decisions[-1].limit == 3


def test_the_burst_frees_up_as_its_second_slides_on(alice, _fresh_limits):
    _, raw = api_key_create(user=alice, name="k", scopes=["predict"], burst_limit="3/s")
    principal = authenticate_key(raw)
    assert [check_rate(principal).allowed for _ in range(4)] == [True, True, True, False]
    _fresh_limits[0] += 0.5  # half a second on: the three still count
    assert not check_rate(principal).allowed
    _fresh_limits[0] += 0.6  # more than a second after them (and a bucket): free again
    assert check_rate(principal).allowed


def test_an_exhausted_quota_refuses_with_its_own_code(alice):
    _, raw = api_key_create(user=alice, name="k", scopes=["predict"], quota="4/d")
    principal = authenticate_key(raw)
    decisions = [check_rate(principal) for _ in range(6)]
    assert sum(d.allowed for d in decisions) == 4
    refused = decisions[-1]
    assert refused.code == "quota_exceeded" and refused.remaining == 0
    assert 1 <= refused.reset_seconds <= 86400
    flush_usage()
    # Only admitted requests count as usage.
    assert usage_today(principal.prefix) == 4


def test_quota_windows_follow_the_calendar():
    # 2026-03-15 12:00:00 UTC
    now = 1773576000.0
    day_start, day_reset = quota_window("d", now)
    assert day_start == 1773532800 and day_reset == 12 * 3600
    month_start, month_reset = quota_window("mo", now)
    assert month_start == 1772323200 and month_reset == 1775001600 - int(now)


def test_a_monthly_quota_holds_across_days_of_the_month(alice):
    first = 1773576000.0  # 15 March
    later = first + 3 * 86400  # 18 March, same month
    decisions = [quota_hit("kmonth", "3/mo", now=first) for _ in range(2)]
    reset_rate_limits()  # as if another process
    decisions += [quota_hit("kmonth", "3/mo", now=later) for _ in range(2)]
    assert [d.allowed for d in decisions] == [True, True, True, False]


def test_the_usage_summary_reports_against_limits(alice):
    key, raw = api_key_create(
        user=alice, name="k", scopes=["predict"], rate_limit="10/m", quota="100/d"
    )
    principal = authenticate_key(raw)
    for _ in range(3):
        check_rate(principal)
    flush_usage()
    usage = api_key_usage(key=key)
    assert usage["today"] == 3 and len(usage["days"]) == 30
    assert usage["window"]["used"] == 3 and usage["window"]["limit"] == 10
    assert usage["quota"]["limit"] == 100 and 3 <= usage["quota"]["used"] <= 100


def test_the_command_sets_rate_limit_and_quota(alice, capsys):
    call_command(
        "create_api_key",
        "--user=alice",
        "--scopes=predict",
        "--rate-limit=100/m",
        "--quota=10000/d",
        "--burst=20/s",
    )
    raw = capsys.readouterr().out.strip()
    principal = authenticate_key(raw)
    assert (principal.rate_limit, principal.burst_limit, principal.quota) == (
        "100/m",
        "20/s",
        "10000/d",
    )


def test_the_command_rejects_a_bad_quota(alice):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="quota: '10000/week' is not a quota"):
        call_command("create_api_key", "--user=alice", "--scopes=predict", "--quota=10000/week")
