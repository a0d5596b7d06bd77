"""The subscription trie against a brute-force matcher, plus queue groups and cache invalidation."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.jwt.subject import subject_matches
from server_stub.sublist import SubList

tok = st.sampled_from(["a", "b", "c", "foo"])
pattern_tok = st.sampled_from(["a", "b", "c", "foo", "*"])
pattern = st.tuples(st.lists(pattern_tok, min_size=1, max_size=4), st.booleans()).map(
    lambda t: ".".join([*t[0], ">"] if t[1] else t[0])
)
literal = st.lists(tok, min_size=1, max_size=5).map(".".join)


def test_basic_wildcards_and_queues() -> None:
    sl: SubList[str] = SubList()
    sl.insert("foo.bar", "s1")
    sl.insert("foo.*", "s2")
    sl.insert("foo.>", "s3")
    sl.insert(">", "s4")
    sl.insert("foo.bar", "q1", queue="workers")
    sl.insert("foo.*", "q2", queue="workers")
    r = sl.match("foo.bar")
    assert sorted(r.plain) == ["s1", "s2", "s3", "s4"]
    assert sorted(r.queues["workers"]) == ["q1", "q2"]
    assert sorted(sl.match("foo.bar.baz").plain) == ["s3", "s4"]
    assert sl.match("foo").plain == ["s4"]
    assert sl.remove("foo.*", "s2")
    assert not sl.remove("foo.*", "s2")
    assert sorted(sl.match("foo.bar").plain) == ["s1", "s3", "s4"]  # cache was invalidated
    assert len(sl) == 5


@settings(max_examples=200, deadline=None)
@given(
    subs=st.lists(st.tuples(pattern, st.none() | st.sampled_from(["q1", "q2"])), max_size=25),
    removals=st.lists(st.integers(0, 24), max_size=10),
    probes=st.lists(literal, min_size=1, max_size=10),
)
def test_matches_brute_force(subs, removals, probes) -> None:
    sl: SubList[int] = SubList(cache_size=4)
    live: dict[int, tuple[str, str | None]] = {}
    for i, (pat, queue) in enumerate(subs):
        sl.insert(pat, i, queue)
        live[i] = (pat, queue)
        # interleave matching so the cache is populated while the index changes
        sl.match(probes[i % len(probes)])
    for i in removals:
        if i in live:
            pat, queue = live.pop(i)
            assert sl.remove(pat, i, queue)
    for subject in probes:
        r = sl.match(subject)
        want_plain = sorted(
            i for i, (p, q) in live.items() if q is None and subject_matches(p, subject)
        )
        assert sorted(r.plain) == want_plain
        want_q: dict[str, list[int]] = {}
        for i, (p, q) in live.items():
            if q is not None and subject_matches(p, subject):
                want_q.setdefault(q, []).append(i)
        assert {k: sorted(v) for k, v in r.queues.items()} == {
            k: sorted(v) for k, v in want_q.items()
        }
    assert len(sl) == len(live)


def test_many_subscriptions_stay_fast() -> None:
    sl: SubList[int] = SubList()
    for i in range(50_000):
        sl.insert(f"svc.{i % 500}.item.{i}", i)
    sl.insert("svc.*.item.>", -1)
    start = time.perf_counter()
    for i in range(20_000):
        r = sl.match(f"svc.{i % 500}.item.{i}")  # distinct subjects: no cache hits
        assert len(r.plain) == 2
    assert time.perf_counter() - start < 2.0  # a linear scan would take minutes


def test_removal_prunes_empty_branches() -> None:
    sl: SubList[int] = SubList()
    sl.insert("_INBOX.abc.1", 1)
    sl.remove("_INBOX.abc.1", 1)
    assert sl._root.empty()


class _NoScanCache(dict):  # type: ignore[type-arg]
    """A match cache that fails the test if anything walks it (a per-SUB cost of O(cache))."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the match cache was scanned")

    def keys(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the match cache was scanned")

    def items(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the match cache was scanned")


def test_sub_storm_does_not_scan_the_match_cache() -> None:
    # Issue #10 item 10: after publishes to 2,000 distinct subjects, each SUB scanned the whole
    # cache (1,024 entries of subject_matches): 100,000 SUBs kept the stub busy for 31.7 s.
    sl: SubList[int] = SubList()
    for i in range(2_000):
        sl.match(f"storm.{i}")
    cache = _NoScanCache(sl.cache)
    sl.cache = cache
    for i in range(5_000):
        sl.insert(f"storm.{i % 3_000}.x", i)  # literal SUBs
    assert sl.match("storm.1990").plain == []  # a cached entry the literal SUBs cannot touch
    assert len(cache) == 1_024
    sl.insert("storm.1999", -1)  # a literal SUB drops only its own subject's entry
    assert sl.match("storm.1999").plain == [-1]
    sl.insert("storm.*", -2)  # a wildcard SUB may change any entry: the cache is dropped
    assert sl.match("storm.1990").plain == [-2]
    assert sorted(sl.match("storm.1999").plain) == [-2, -1]
    assert sl.remove("storm.*", -2)
    assert sl.match("storm.1990").plain == []
    assert sl.remove("storm.1999", -1)
    assert sl.match("storm.1999").plain == []


def test_subjects_with_empty_tokens_match_nothing() -> None:
    # as nats-server's sublist Match; permission lists are sublists too, so `orders.>` neither
    # allows nor denies `orders..x` (found by bench/fuzz_differential.py and the probes)
    sl: SubList[str] = SubList()
    sl.insert(">", "all")
    sl.insert("a.>", "a")
    sl.insert("a.*.b", "ab")
    for subject in ("a..b", ".a", "a.", "", "a.b.", "."):
        assert not sl.match(subject), subject
    assert sorted(sl.match("a.x.b").plain) == ["a", "ab", "all"]


def test_reply_inboxes_are_matched_but_never_cached() -> None:
    sl: SubList[str] = SubList(cache_size=4)
    sl.insert("_INBOX.abc.*", "requester")
    sl.insert("orders.>", "orders")
    assert sl.match("orders.1").plain == ["orders"]
    for i in range(10):  # one-off subjects: caching them would evict orders.1
        assert sl.match(f"_INBOX.abc.{i}").plain == ["requester"]
    assert list(sl.cache) == ["orders.1"]
    sl.insert("_INBOX.abc.5", "exact")  # a literal insert invalidates only its own subject
    assert sorted(sl.match("_INBOX.abc.5").plain) == ["exact", "requester"]


def _brute(live: dict[int, tuple[str, str | None]], subject: str) -> tuple[list[int], dict]:
    if "" in subject.split("."):
        return [], {}
    plain = sorted(i for i, (p, q) in live.items() if q is None and subject_matches(p, subject))
    queues: dict[str, list[int]] = {}
    for i, (p, q) in sorted(live.items()):
        if q is not None and subject_matches(p, subject):
            queues.setdefault(q, []).append(i)
    return plain, queues


inbox_probe = st.one_of(literal, st.sampled_from(["a.", "a..b", ".a", "a", "", "a.b."]))


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["insert", "remove", "probe"]),
            pattern,
            st.none() | st.sampled_from(["q1", "q2"]),
            inbox_probe,
        ),
        max_size=40,
    )
)
def test_match_inbox_is_match_after_any_change(steps) -> None:
    """match_inbox caches per parent; inserts and removes in between never make it stale."""
    sl: SubList[int] = SubList(cache_size=4)
    live: dict[int, tuple[str, str | None]] = {}
    for i, (action, pat, queue, subject) in enumerate(steps):
        if action == "insert":
            sl.insert(pat, i, queue)
            live[i] = (pat, queue)
        elif action == "remove" and live:
            key = sorted(live)[i % len(live)]
            pat, queue = live.pop(key)
            assert sl.remove(pat, key, queue)
        parent = subject.rpartition(".")[0]
        siblings = [f"{subject}.{t}" for t in ("a", "foo", "x")] + [f"{parent}.{t}" for t in "abx"]
        for probe in (subject, *siblings):  # siblings share a parent: one cache entry
            r = sl.match_inbox(probe)
            assert r.plain == sl.match(probe).plain  # the same order too (nats-server's)
            plain, queues = _brute(live, probe)
            assert sorted(r.plain) == plain
            assert {k: sorted(v) for k, v in r.queues.items()} == queues


def test_match_inbox_shares_a_parent_only_while_no_literal_sibling_exists() -> None:
    sl: SubList[str] = SubList()
    sl.insert("_INBOX.abc.*", "mux")
    first = sl.match_inbox("_INBOX.abc.1")
    assert first.plain == ["mux"]
    assert sl.match_inbox("_INBOX.abc.2") is first  # one walk serves the connection's acks
    sl.insert("_INBOX.abc.7", "exact")
    assert sl.match_inbox("_INBOX.abc.2").plain == ["mux"]
    assert sorted(sl.match_inbox("_INBOX.abc.7").plain) == ["exact", "mux"]
    assert sl.match_inbox("_INBOX.abc.3") is not sl.match_inbox("_INBOX.abc.4")  # not shared
    assert sl.remove("_INBOX.abc.7", "exact")
    assert sl.match_inbox("_INBOX.abc.7").plain == ["mux"]
    assert list(sl.cache) == []  # the subject cache stays free of inboxes


def test_match_order_is_nats_servers() -> None:
    # matchLevel: '>' first at each level, then what '*' leads to, then the literal path; at
    # the last token the literal node before the '*' node
    sl: SubList[str] = SubList()
    for pattern in ("a.*", "a.b", "a.>", "*.b", ">"):
        sl.insert(pattern, pattern)
    assert sl.match("a.b").plain == [">", "*.b", "a.>", "a.b", "a.*"]
