"""A connection's rules without sockets: CONNECT options, the auth gate, permissions, reply
grants, limits and the per-turn budget, driven through server_stub.session.Session."""

from __future__ import annotations

import pytest

from server_stub import errors
from server_stub.auth import Identity
from server_stub.events import Err, Ok
from server_stub.policy import Grant, Permissions, ResponsePermission
from server_stub.session import (
    DELIVER,
    DELIVER_AFTER_OK,
    EVENTS_PER_TURN,
    Gate,
    PubVerdict,
    Session,
)

NOW = 1_000_000.0


def bound(perms: Permissions | None = None, *, verbose: bool = False, **limits: int) -> Session:
    """A session past CONNECT (non-verbose unless told), bound with these permissions."""
    session = Session(7, auth_required=True, server_max_payload=1024)
    assert session.read_connect({"verbose": verbose}) is None
    grant = Grant(perms, limits.get("max_subs", -1), limits.get("max_payload", -1))
    session.bind(Identity("ACC", "u", perms, grant=grant), -1, -1)
    return session


# --- CONNECT ---------------------------------------------------------------------------------


def test_connect_defaults_are_nats_servers_until_connect_says_otherwise() -> None:
    session = Session()
    assert (session.verbose, session.pedantic, session.echo, session.headers) == (
        True,
        True,
        True,
        False,
    )
    assert session.read_connect({}) is None  # fields missing: verbose/pedantic stay true
    assert session.verbose and session.pedantic
    options = {"verbose": False, "echo": False, "headers": True, "protocol": 1, "name": "n"}
    assert session.read_connect(options) is None
    assert (session.verbose, session.echo, session.headers, session.protocol) == (
        False,
        False,
        True,
        1,
    )
    assert session.name == "n" and session.lang == ""


def test_connect_refuses_no_responders_without_headers() -> None:
    refusal = Session().read_connect({"no_responders": True})
    assert refusal == Err(errors.NO_RESPONDERS_NEEDS_HEADERS)
    assert Session().read_connect({"no_responders": True, "headers": True}) is None


def test_connect_ignores_a_protocol_that_is_not_an_int() -> None:
    session = Session()
    session.read_connect({"protocol": "1", "name": 5})
    assert session.protocol == 0 and session.name == ""


# --- the auth gate ---------------------------------------------------------------------------


def test_gate_open_without_auth_even_before_connect() -> None:
    session = Session(auth_required=False)
    assert session.gate() is Gate.OPEN and session.past_gate


def test_gate_refuses_before_connect_when_auth_is_required() -> None:
    session = Session(auth_required=True)
    assert session.gate() is Gate.REFUSE and not session.past_gate


def test_gate_binds_no_auth_user_to_a_client_that_skips_connect() -> None:
    session = Session(auth_required=True, no_auth_user=True)
    assert session.gate() is Gate.BIND_DEFAULT_USER
    session.bind(Identity("ACC", "guest"), 10, 100)
    assert session.gate() is Gate.OPEN and session.past_gate
    assert (session.max_subs, session.max_payload) == (10, 100)


def test_bind_takes_the_grant_over_the_accounts_limits() -> None:
    session = Session(auth_required=True, server_max_payload=1024)
    perms = Permissions(pub_allow=["a"])
    session.bind(Identity("ACC", grant=Grant(perms, 5, 512), permissions=perms), 100, 2048)
    assert (session.permissions, session.max_subs, session.max_payload) == (perms, 5, 512)
    assert session.payload_limit == 512


@pytest.mark.parametrize(
    ("server", "connection", "limit"), [(1024, -1, 1024), (1024, 512, 512), (1024, 4096, 1024)]
)
def test_payload_limit_is_the_smaller_of_servers_and_connections(
    server: int, connection: int, limit: int
) -> None:
    session = Session(server_max_payload=server)
    session.apply_grant(Grant(None, -1, connection))
    assert session.payload_limit == limit


# --- publish ---------------------------------------------------------------------------------


def test_publish_without_permissions_delivers_and_verbose_acknowledges_first() -> None:
    assert bound().check_publish("a.b", 10, NOW) is DELIVER
    assert bound(verbose=True).check_publish("a.b", 10, NOW) is DELIVER_AFTER_OK
    assert DELIVER_AFTER_OK.send == (Ok(),)


def test_publish_violation_is_an_err_and_nothing_is_delivered() -> None:
    session = bound(Permissions(pub_allow=["orders.>"], pub_deny=["orders.secret"]))
    assert session.check_publish("orders.new", 1, NOW).deliver
    verdict = session.check_publish("orders.secret", 1, NOW)
    assert verdict == PubVerdict(False, (Err(errors.pub_violation("orders.secret")),))
    assert not session.check_publish("billing.x", 1, NOW).deliver


def test_payload_over_the_connections_limit_closes() -> None:
    session = bound(max_payload=100)
    assert session.check_publish("a", 100, NOW) is DELIVER
    verdict = session.check_publish("a", 101, NOW)
    assert verdict == PubVerdict(False, close=Err(errors.MAX_PAYLOAD))


def test_invalid_publish_subject_is_reported_to_pedantic_clients_and_still_delivered() -> None:
    pedantic = bound()
    pedantic.pedantic = True
    verdict = pedantic.check_publish("a.*", 1, NOW)
    assert verdict == PubVerdict(True, (Err(errors.INVALID_PUBLISH_SUBJECT),))
    relaxed = bound()
    relaxed.pedantic = False
    assert relaxed.check_publish("a.*", 1, NOW) is DELIVER


def test_empty_token_is_never_delivered_and_an_allow_list_refuses_it() -> None:
    session = bound()
    session.pedantic = False
    assert session.check_publish("a..b", 1, NOW) == PubVerdict(False)
    session.verbose = True
    assert session.check_publish("a..b", 1, NOW) == PubVerdict(False, (Ok(),))
    allow_list = bound(Permissions(pub_allow=[">"]))
    allow_list.pedantic = True
    verdict = allow_list.check_publish("a..b", 1, NOW)
    expected = (Err(errors.INVALID_PUBLISH_SUBJECT), Err(errors.pub_violation("a..b")))
    assert verdict == PubVerdict(False, expected)


def test_invalid_subject_err_precedes_the_payload_close() -> None:
    session = bound(max_payload=10)
    verdict = session.check_publish("a.>", 11, NOW)
    assert verdict == PubVerdict(
        False, (Err(errors.INVALID_PUBLISH_SUBJECT),), Err(errors.MAX_PAYLOAD)
    )


# --- reply grants ----------------------------------------------------------------------------


def test_reply_grant_allows_max_answers_within_ttl() -> None:
    perms = Permissions(sub_allow=["svc"], response=ResponsePermission(max_msgs=2, ttl=10.0))
    session = bound(perms)
    assert not session.check_publish("_INBOX.1", 1, NOW).deliver  # no request seen yet
    assert session.may_deliver("svc", "_INBOX.1", NOW)
    assert session.check_publish("_INBOX.1", 1, NOW + 1).deliver
    assert session.check_publish("_INBOX.1", 1, NOW + 2).deliver
    assert not session.check_publish("_INBOX.1", 1, NOW + 3).deliver  # max 2 used up


def test_reply_grant_expires_after_its_ttl() -> None:
    perms = Permissions(response=ResponsePermission(max_msgs=5, ttl=10.0))
    session = bound(perms)
    session.may_deliver("svc", "_INBOX.2", NOW)
    assert not session.check_publish("_INBOX.2", 1, NOW + 11).deliver
    assert "_INBOX.2" not in session.replies


def test_response_permission_alone_means_publish_only_replies() -> None:
    session = bound(Permissions(response=ResponsePermission()))
    assert not session.check_publish("anything", 1, NOW).deliver


def test_no_reply_grant_without_response_permission() -> None:
    session = bound(Permissions(pub_allow=["x"]))
    assert session.may_deliver("svc", "_INBOX.3", NOW)
    assert session.replies == {}


# --- subscribe and deliver -------------------------------------------------------------------


def test_subscribe_checks_in_nats_servers_order() -> None:
    session = bound(Permissions(sub_allow=["ok.>"]), max_subs=1)
    # a refused subject wins over the limit and over a reused sid
    assert session.check_subscribe("no", None, True, 5) == Err(errors.sub_violation("no"))
    assert session.check_subscribe("ok.a", None, False, 1) == Err(errors.MAX_SUBSCRIPTIONS)
    assert session.check_subscribe("ok.>", None, True, 0) == Ok()  # reused sid: ignored
    assert session.check_subscribe("ok.>", None, False, 0) is None
    free = bound()
    assert free.check_subscribe("a..b", None, False, 0) == Err(errors.INVALID_SUBJECT)
    assert free.check_subscribe("a", "", False, 0) == Err(errors.INVALID_SUBJECT)


def test_queue_permissions() -> None:
    session = bound(Permissions(sub_allow=["jobs workers"]))
    assert session.check_subscribe("jobs", "workers", False, 0) is None
    assert session.check_subscribe("jobs", "others", False, 0) == Err(
        errors.sub_violation("jobs", "others")
    )


def test_deny_list_filters_deliveries_to_a_wildcard_subscription() -> None:
    session = bound(Permissions(sub_deny=["secret.>"]))
    assert session.check_subscribe(">", None, False, 0) is None  # overlapping: accepted
    assert session.may_deliver("public.x", None, NOW)
    assert not session.may_deliver("secret.x", None, NOW)


# --- the per-turn budget ---------------------------------------------------------------------


def test_publish_charges_one_operation_plus_one_per_kilobyte() -> None:
    session = bound()
    session.new_turn()
    assert session.budget == EVENTS_PER_TURN
    session.check_publish("a", 10, NOW)
    assert session.budget == EVENTS_PER_TURN - 1
    session.check_publish("a", 4096, NOW)  # refused payloads are charged too
    assert session.budget == EVENTS_PER_TURN - 1 - 5
    session.new_turn()
    assert session.budget == EVENTS_PER_TURN


def test_invalid_subject_then_permissions_then_ok_in_nats_servers_order() -> None:
    verbose = bound(verbose=True)
    verbose.pedantic = True
    verdict = verbose.check_publish("a.*", 1, NOW)
    assert verdict == PubVerdict(True, (Err(errors.INVALID_PUBLISH_SUBJECT), Ok()))
    denied = bound(Permissions(pub_deny=["a.*"]))
    denied.pedantic = True
    verdict = denied.check_publish("a.*", 1, NOW)
    expected = (Err(errors.INVALID_PUBLISH_SUBJECT), Err(errors.pub_violation("a.*")))
    assert verdict == PubVerdict(False, expected)


# --- what the direct delivery path may skip (Session.publishable) ---------------------------


def test_publishable_holds_subjects_delivered_on_the_clients_own_rights() -> None:
    session = bound(Permissions(pub_allow=["orders.>"], response=ResponsePermission(2, 10.0)))
    assert session.check_publish("orders.new", 1, NOW) is DELIVER
    assert not session.check_publish("billing.x", 1, NOW).deliver
    session.may_deliver("svc", "_INBOX.9", NOW)
    assert session.check_publish("_INBOX.9", 1, NOW).deliver  # by the reply grant: counted down
    assert not session.check_publish("a..b", 1, NOW).deliver
    assert session.publishable == {"orders.new"}


def test_nothing_is_publishable_for_a_verbose_client() -> None:
    session = bound(verbose=True)
    assert session.check_publish("a", 1, NOW) is DELIVER_AFTER_OK
    assert session.publishable == set()


@pytest.mark.parametrize("change", ["grant", "bind", "connect"])
def test_publishable_is_forgotten_when_the_rights_or_options_change(change: str) -> None:
    session = bound()
    session.check_publish("a", 1, NOW)
    assert session.publishable == {"a"}
    if change == "grant":
        session.apply_grant(Grant(Permissions(pub_allow=["b"]), -1, -1))
    elif change == "bind":
        session.bind(Identity("ACC", "v", Permissions(pub_allow=["b"])), -1, -1)
    else:
        assert session.read_connect({"verbose": True}) is None
    assert session.publishable == set()
