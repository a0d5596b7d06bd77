"""Publish/subscribe permissions (server_stub.policy): nats-server's allow/deny semantics."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.jwt.subject import subject_matches
from server_stub.policy import Permissions, ResponsePermission

tok = st.sampled_from(["a", "b", "foo"])
pattern = st.tuples(
    st.lists(st.sampled_from(["a", "b", "foo", "*"]), min_size=1, max_size=3), st.booleans()
).map(lambda t: ".".join(t[0] + ([">"] if t[1] else [])))
literal = st.lists(tok, min_size=1, max_size=4).map(".".join)


def test_missing_lists_allow_everything_and_empty_allow_lists_nothing() -> None:
    free = Permissions()
    assert free.can_publish("x") and free.can_subscribe("x.>") and free.can_deliver("x")
    locked = Permissions(pub_allow=[], sub_allow=[])
    assert not locked.can_publish("x") and not locked.can_subscribe("x")


def test_deny_wins_over_allow() -> None:
    perms = Permissions(pub_allow=["orders.>"], pub_deny=["orders.secret"])
    assert perms.can_publish("orders.new")
    assert not perms.can_publish("orders.secret")
    assert not perms.can_publish("billing.new")


def test_a_subscription_subject_is_matched_as_a_literal() -> None:
    perms = Permissions(sub_allow=["foo.*"])
    assert perms.can_subscribe("foo.*") and perms.can_subscribe("foo.bar")
    assert Permissions(sub_allow=["foo.>"]).can_subscribe("foo.*")
    assert not Permissions(sub_allow=["foo.bar"]).can_subscribe("foo.*")


def test_overlapping_deny_accepts_the_subscription_and_filters_delivery() -> None:
    perms = Permissions(sub_deny=["secret.>"])
    assert perms.can_subscribe(">")
    assert not perms.can_subscribe("secret.x")
    assert perms.can_deliver("public.x") and not perms.can_deliver("secret.x")


def test_queue_permissions() -> None:
    perms = Permissions(sub_allow=["jobs workers"], sub_deny=["jobs.private spies"])
    assert perms.can_subscribe("jobs", "workers")
    assert not perms.can_subscribe("jobs", "others")
    assert not perms.can_subscribe("jobs")  # the permission names a queue group
    assert Permissions(sub_deny=["jobs spies"]).can_subscribe("jobs", "workers")
    assert not Permissions(sub_deny=["jobs spies"]).can_subscribe("jobs", "spies")


def test_response_permission_alone_means_publish_only_replies() -> None:
    perms = Permissions(response=ResponsePermission())
    assert perms.pub_allow is not None and not perms.can_publish("anything")
    assert perms.response == ResponsePermission(1, 120.0)


@settings(max_examples=200, deadline=None)
@given(
    allow=st.none() | st.lists(pattern, max_size=3),
    deny=st.none() | st.lists(pattern, max_size=3),
    subject=literal,
)
def test_publish_matches_the_allow_deny_rule(
    allow: list[str] | None, deny: list[str] | None, subject: str
) -> None:
    expected = (allow is None or any(subject_matches(p, subject) for p in allow)) and not (
        deny is not None and any(subject_matches(p, subject) for p in deny)
    )
    perms = Permissions(pub_allow=allow, pub_deny=deny)
    assert perms.can_publish(subject) is expected
    assert perms.can_publish(subject) is expected  # the cached answer is the same
