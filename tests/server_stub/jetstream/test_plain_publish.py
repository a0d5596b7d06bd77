"""A publish without headers takes a short path (Stream.publish, when _stores_plainly says no
check or limit of the config applies; FileStore.append's write-behind case): it must end
exactly where the full path ends. Each example runs the same publishes, clock steps and
updates twice, once with the short path ruled out, and compares every ack, every state and
everything sent (republished messages), on memory and on file storage."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.jetstream import JetStream, JetStreamConfig, JsLimits
from server_stub.jetstream import stream as stream_module

from .conftest import ACCOUNT, Clock, LocalBus

API = "$JS.API."
SECOND = 1_000_000_000

# every setting _stores_plainly looks at (and the TTLs it must wait for); an example takes
# at most two, so that each one is also seen alone (with any other, the short path is off)
FEATURES: dict[str, st.SearchStrategy[Any]] = {
    "max_msgs": st.integers(1, 4),
    "max_bytes": st.integers(40, 150),
    "max_age": st.sampled_from([SECOND, 3 * SECOND]),
    "max_msgs_per_subject": st.integers(1, 2),
    "max_msg_size": st.integers(0, 12),
    "discard": st.just("new"),
    "subject_transform": st.just({"src": "s.*", "dest": "s.in.{{wildcard(1)}}"}),
    "republish": st.just({"src": "s.>", "dest": "out.>"}),
    "allow_msg_ttl": st.just(True),
}
STORAGE = st.sampled_from(["memory", "file"])
PAIRS = st.tuples(
    STORAGE, st.lists(st.sampled_from(sorted(FEATURES)), min_size=2, max_size=2, unique=True)
).flatmap(
    lambda chosen: st.fixed_dictionaries(
        {"storage": st.just(chosen[0])} | {name: FEATURES[name] for name in chosen[1]}
    )
)
SUBJECTS = st.sampled_from(["s.a", "s.b"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("pub"), SUBJECTS, st.integers(0, 20)),
        st.tuples(st.just("pub"), SUBJECTS, st.integers(0, 20)),  # (twice as likely)
        st.tuples(st.just("Nats-TTL"), SUBJECTS, st.just("1s")),
        st.tuples(st.just("Nats-Msg-Id"), SUBJECTS, st.sampled_from(["a", "b"])),
        st.tuples(st.just("Nats-Expected-Last-Msg-Id"), SUBJECTS, st.sampled_from(["", "a"])),
        st.tuples(st.just("wait"), st.sampled_from([0.5, 2.0])),
        st.tuples(st.just("update"), st.sampled_from([None, 1, 3])),
        st.tuples(st.just("seal")),
    ),
    max_size=12,
)


def _run(config: dict[str, Any], ops: list[tuple[Any, ...]]) -> list[Any]:
    """What a client would see and the stream would hold after each step."""
    seen: list[Any] = []
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        bus = LocalBus()
        js_config = JetStreamConfig(store_dir=Path(tmp), sync_interval=120.0)
        js = JetStream(js_config, bus, lambda account: JsLimits(), clock)
        js.start()
        js.enable_account(ACCOUNT, JsLimits())
        try:
            body = {"name": "S", "subjects": ["s.>"], **config}
            created = bus.request(ACCOUNT, f"{API}STREAM.CREATE.S", body)
            seen.append(created.get("error") if created else None)
            for op in ops:
                if op[0] == "pub":
                    seen.append(bus.request(ACCOUNT, op[1], b"x" * op[2]))
                elif op[0].startswith("Nats-"):
                    seen.append(bus.request(ACCOUNT, op[1], b"h", {op[0]: op[2]}))
                elif op[0] == "wait":
                    clock.advance(op[1])
                elif op[0] in ("update", "seal"):
                    change = {"sealed": True} if op[0] == "seal" else {}
                    if op[0] == "update" and op[1] is not None:
                        change = {"max_msgs": op[1]}
                    answer = bus.request(ACCOUNT, f"{API}STREAM.UPDATE.S", body | change)
                    seen.append(answer.get("error") if answer else None)
                account = js.accounts[ACCOUNT]
                if "S" in account.streams:
                    store = account.streams["S"].store
                    held = [(m.seq, m.subject, m.data) for m in store.iter_from(0)]
                    seen.append((store.first_seq, store.last_seq, store.bytes, held))
            seen.append([(m.subject, m.headers, m.payload) for m in bus.sent])
        finally:
            js.stop()
    return seen


@pytest.mark.parametrize("feature", [None, *sorted(FEATURES)])
@settings(max_examples=25, deadline=None)
@given(storage=STORAGE, value=st.data(), ops=OPS)
def test_a_plain_publish_ends_where_the_full_path_ends(
    feature: str | None, storage: str, value: st.DataObject, ops: list[tuple[Any, ...]]
) -> None:
    config = {"storage": storage}
    if feature is not None:
        config[feature] = value.draw(FEATURES[feature], label=feature)
    _same_on_both_paths(config, ops)


@settings(max_examples=40, deadline=None)
@given(PAIRS, OPS)
def test_so_it_does_with_two_settings(config: dict[str, Any], ops: list[tuple[Any, ...]]) -> None:
    _same_on_both_paths(config, ops)


def _same_on_both_paths(config: dict[str, Any], ops: list[tuple[Any, ...]]) -> None:
    with mock.patch.object(stream_module, "_stores_plainly", lambda config: False):
        want = _run(config, ops)
    assert _run(config, ops) == want, json.dumps(config)


def test_the_short_path_is_taken_and_a_stream_update_is_seen() -> None:
    # (so the comparison above compares two different paths)
    calls: list[bool] = []
    real = stream_module._stores_plainly

    def spy(config: Any) -> bool:
        calls.append(real(config))
        return calls[-1]

    with mock.patch.object(stream_module, "_stores_plainly", spy):
        seen = _run({"storage": "file"}, [("pub", "s.a", 3), ("update", 1), ("pub", "s.a", 3)])
    assert calls == [True, False]  # created plain; updated with max_msgs, no longer
    assert seen[-2][3] == [(2, "s.a", b"xxx")]  # the limit applied to the plain publish


def test_a_pending_ttl_expires_at_a_plain_publish() -> None:
    ops = [("Nats-TTL", "s.a", "1s"), ("wait", 2.0), ("pub", "s.b", 1)]
    seen = _run({"storage": "file", "allow_msg_ttl": True}, ops)
    assert seen[-2][3] == [(2, "s.b", b"x")]  # before any tick, as the full path does
    _same_on_both_paths({"storage": "memory", "allow_msg_ttl": True}, ops)
