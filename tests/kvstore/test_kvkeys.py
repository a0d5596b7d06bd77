"""The pure rules of the KV store: path <-> key mapping and the --store URL."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nscpy import keys
from nscpy.errors import NscValueError
from nscpy.store.errors import StoreError
from nscpy.store.kvclient import KvClient
from nscpy.store.kvkeys import (
    contains_seed,
    decode_key,
    decode_part,
    encode_key,
    encode_part,
    is_store_url,
    parse_store_url,
)

# what nats-py and the server accept as a KV key: these characters, no empty token
KV_KEY = re.compile(r"\A[-/_=.A-Za-z0-9]+\Z")
parts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(st.lists(parts, min_size=1, max_size=6))
def test_every_path_is_a_valid_key_and_comes_back(path: list[str]) -> None:
    key = encode_key(path)
    assert KV_KEY.fullmatch(key)
    assert not key.startswith(".") and not key.endswith(".") and ".." not in key
    assert decode_key(key) == tuple(path)
    assert len(key.split(".")) == len(path)  # one token per component: wildcards work


@given(parts, parts)
def test_distinct_components_never_share_a_token(a: str, b: str) -> None:
    assert (encode_part(a) == encode_part(b)) == (a == b)


def test_examples_are_readable() -> None:
    assert encode_key(["O", "accounts", "A", "A.jwt"]) == "O.accounts.A.A=2Ejwt"
    assert encode_key(["O", ".nsc"]) == "O.=2Ensc"
    assert encode_part("Zürich team") == "Z=C3=BCrich=20team"


@pytest.mark.parametrize("token", ["", "a=2e", "=", "a b", "=sealed", "=C3", "a=41"])
def test_tokens_we_never_write_are_refused(token: str) -> None:
    with pytest.raises(NscValueError):
        decode_part(token)


def test_store_url() -> None:
    spec = parse_store_url("nats://127.0.0.1:4222,127.0.0.1:4223?bucket=team&replicas=3")
    assert spec.servers == ("nats://127.0.0.1:4222", "nats://127.0.0.1:4223")
    assert spec.bucket == "team" and spec.replicas == 3 and spec.history == 64
    assert spec.display() == "nats://127.0.0.1:4222,127.0.0.1:4223?bucket=team"
    assert parse_store_url("tls://h:1?bucket=b").servers == ("tls://h:1",)
    assert is_store_url("nats://h:1?bucket=b") and not is_store_url("/var/nsc")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h:1?bucket=b", "nats:// or tls://"),
        ("nats://u:p@h:1?bucket=b", "must not carry credentials"),
        ("nats://h:1", "needs ?bucket=NAME"),
        ("nats://h:1?bucket=a.b", "needs ?bucket=NAME"),
        ("nats://h:1?bucket=b&color=red", "unknown option 'color'"),
        ("nats://h:1?bucket=b&bucket=c", "given 2 times"),
        ("nats://h?bucket=b", "HOST:PORT"),
        ("nats://h:1/path?bucket=b", "no path"),
        ("nats://h:1?bucket=b&replicas=9", "replicas must be"),
        ("nats://h:1?bucket=b&history=0", "history must be"),
    ],
)
def test_bad_store_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(NscValueError, match=re.escape(message)):
        parse_store_url(url)


def test_seeds_are_recognised_and_never_written() -> None:
    seed = keys.create_pair(keys.Prefix.ACCOUNT).seed
    assert contains_seed(b"header " + seed.encode() + b" trailer")
    assert not contains_seed(seed[:-1].encode() + b"A" if seed[-1] != "A" else b"SX")
    assert not contains_seed(keys.create_pair(keys.Prefix.ACCOUNT).public_key.encode())
    # refused before any connection is attempted (nothing listens on port 1)
    client = KvClient(parse_store_url("nats://127.0.0.1:1?bucket=b"))
    with pytest.raises(StoreError, match="refusing to write what holds an NKey seed"):
        client.put("k", seed.encode(), last=None, change="c")
    with pytest.raises(StoreError, match="refusing"):
        client.put_many([("a", b"x", None), ("k", seed.encode(), None)], "c")
