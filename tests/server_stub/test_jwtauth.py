"""Pure operator-mode rules: time windows, source networks, templates, limits, activations."""

from __future__ import annotations

import datetime
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy import jwt, keys
from server_stub.errors import AuthError
from server_stub.jwtaccounts import activation_problem, local_subject
from server_stub.jwtauth import (
    _limit,
    check_source,
    expand_subject,
    time_window_left,
    to_permissions,
)


def _at(hms: str) -> float:
    day = datetime.datetime(2030, 1, 2, tzinfo=datetime.timezone.utc)
    h, m, s = (int(x) for x in hms.split(":"))
    return (day + datetime.timedelta(hours=h, minutes=m, seconds=s)).timestamp()


def test_time_windows_including_midnight() -> None:
    day = [jwt.TimeRange("08:00:00", "17:00:00")]
    assert time_window_left(day, "", _at("16:59:00")) == 60
    assert time_window_left(day, "", _at("17:00:00")) is None
    night = [jwt.TimeRange("22:00:00", "02:00:00")]
    assert time_window_left(night, "UTC", _at("23:00:00")) == 3 * 3600
    assert time_window_left(night, "UTC", _at("01:00:00")) == 3600
    assert time_window_left(night, "UTC", _at("12:00:00")) is None
    assert time_window_left([], "", 0) == float("inf")
    # 08:00-17:00 in New York is 13:00-22:00 UTC in January
    assert time_window_left(day, "America/New_York", _at("20:00:00")) == 2 * 3600


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 86399), st.integers(0, 86399), st.integers(0, 86399))
def test_window_left_is_bounded(start: int, end: int, now: int) -> None:
    def hms(t: int) -> str:
        return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"

    left = time_window_left([jwt.TimeRange(hms(start), hms(end))], "", _at(hms(now)))
    assert left is None or 0 < left <= 86400


def test_source_networks() -> None:
    check_source([], "10.1.2.3")
    check_source(["10.0.0.0/8", "::1/128"], "::1")
    with pytest.raises(AuthError, match="outside the allowed networks"):
        check_source(["10.0.0.0/8"], "127.0.0.1")


def test_template_expansion() -> None:
    account = jwt.AccountClaims.new(keys.create_pair(keys.Prefix.ACCOUNT).public_key)
    account.name, account.tags = "APP", ["env:prod"]
    user = jwt.UserClaims.new(keys.create_pair(keys.Prefix.USER).public_key)
    user.name, user.tags = "bob", ["team:red", "team:blue"]
    assert expand_subject("{{account-name()}}.{{name()}}.>", user, account) == ["APP.bob.>"]
    assert expand_subject("t.{{tag(team)}}.{{account-tag(env)}}", user, account) == [
        "t.red.prod",
        "t.blue.prod",
    ]
    assert expand_subject("u.{{subject()}}", user, account) == [f"u.{user.subject}"]
    assert expand_subject("x.{{tag(none)}}", user, account) is None
    with pytest.raises(AuthError, match="unknown template function"):
        expand_subject("{{nope()}}", user, account)


def test_permissions_and_limits() -> None:
    assert to_permissions(jwt.Permissions()) is None
    perms = jwt.Permissions(resp=jwt.ResponsePermission(0, 0))
    converted = to_permissions(perms)
    assert converted is not None and converted.response is not None
    assert (converted.response.max_msgs, converted.response.ttl) == (1, 120.0)
    assert not converted.can_publish("anything")  # responses only
    assert [_limit(-1, 5), _limit(3, -1), _limit(3, 5), _limit(-1, -1)] == [5, 3, 3, -1]


def test_activation_rules() -> None:
    exporter_kp, importer = (keys.create_pair(keys.Prefix.ACCOUNT) for _ in range(2))
    exporter = jwt.AccountClaims.new(exporter_kp.public_key)
    export = jwt.Export(subject="priv.>", type="stream", token_req=True)
    exporter.exports = [export]

    def imp(subject: str = "priv.>", **kw: object) -> jwt.Import:
        act = jwt.ActivationClaims.new(importer.public_key)
        act.import_subject, act.import_type = subject, "stream"
        for k, v in kw.items():
            setattr(act, k, v)
        token = jwt.encode(act, exporter_kp, iat=int(time.time()) - 5)
        return jwt.Import(subject="priv.>", account=exporter.subject, type="stream", token=token)

    now = int(time.time())
    assert activation_problem(imp(), export, importer.public_key, exporter, now) is None
    assert "covers" in str(
        activation_problem(imp("priv.a"), export, importer.public_key, exporter, now)
    )
    expired = imp(expires=now - 1)
    assert activation_problem(expired, export, importer.public_key, exporter, now)
    assert "is for" in str(activation_problem(imp(), export, "AOTHER", exporter, now))
    export.revoke(importer.public_key, now)
    assert (
        activation_problem(imp(), export, importer.public_key, exporter, now)
        == "activation revoked"
    )
    assert local_subject(jwt.Import(subject="a.b", to="p", type="stream")) == "p.a.b"
    assert local_subject(jwt.Import(subject="svc", to="loc", type="service")) == "loc"
