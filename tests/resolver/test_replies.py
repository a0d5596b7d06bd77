"""Parsing the resolver's JSON replies, in the shapes nats-server 2.15.1 sends."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.errors import NscError
from nscpy.resolver import BadReply, parse_reply

SERVER = {"name": "acc_55587", "host": "127.0.0.1", "id": "NDGC", "ver": "2.15.1", "seq": 15}
ACCOUNT = "AB4OEXAMPLE"


def test_update_success() -> None:
    doc = {"server": SERVER, "data": {"account": ACCOUNT, "code": 200, "message": "jwt updated"}}
    reply = parse_reply(json.dumps(doc).encode())
    assert reply.ok
    assert (reply.account, reply.code, reply.message) == (ACCOUNT, 200, "jwt updated")
    assert reply.server.label == "acc_55587"
    assert reply.server.version == "2.15.1"
    assert reply.describe() == "acc_55587: jwt updated"


def test_update_error_quotes_description() -> None:
    doc = {
        "server": SERVER,
        "error": {
            "account": "n/a",
            "code": 500,
            "description": "jwt update resulted in error - expected 3 chunks",
        },
    }
    reply = parse_reply(json.dumps(doc).encode())
    assert not reply.ok
    assert reply.code == 500
    assert reply.account == "n/a"
    assert reply.describe() == (
        "acc_55587: failed: jwt update resulted in error - expected 3 chunks"
    )


def test_list_reply_data_is_a_list() -> None:
    reply = parse_reply(json.dumps({"data": [ACCOUNT], "server": SERVER}).encode())
    assert reply.ok
    assert reply.data == [ACCOUNT]
    assert reply.account == ""


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ({"data": {"code": 200}}, "reply names no server"),
        ({"server": {"name": ""}, "data": {"code": 200}}, "reply names no server"),
        ({"server": SERVER}, "reply has no data"),
        ({"server": SERVER, "data": {}, "error": "boom"}, "boom"),
    ],
)
def test_nsc_failure_rule(doc: dict[str, object], why: str) -> None:
    reply = parse_reply(json.dumps(doc).encode())
    assert not reply.ok
    assert reply.message == why


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1,2]", b"\xff\xfe", b"42"])
def test_non_object_replies_raise_bad_reply(payload: bytes) -> None:
    with pytest.raises(BadReply, match="server reply"):
        parse_reply(payload)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_only_raises_our_error(payload: bytes) -> None:
    try:
        parse_reply(payload)
    except NscError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["server", "data", "error", "x"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_any_json_object_parses_and_describes(doc: dict[str, object]) -> None:
    reply = parse_reply(json.dumps(doc).encode())
    assert isinstance(reply.describe(), str)
    assert isinstance(reply.code, int)
