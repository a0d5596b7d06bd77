"""sync_interval: fsync before every ack (the default), or ack from the page cache and fsync on
a period, as nats-server's option does."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server_stub.jetstream.config import parse_config
from server_stub.jetstream.errors import JsConfigError
from server_stub.jetstream.filestore import FileStore

from .conftest import ACCOUNT


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """Every segment fsync, by file descriptor (the real fsync still runs)."""
    seen: list[int] = []
    real = FileStore.fsync_fd

    def count(fd: int) -> None:
        seen.append(fd)
        real(fd)

    monkeypatch.setattr(FileStore, "fsync_fd", staticmethod(count))
    return seen


def create(bus) -> dict:
    body = {"name": "S", "subjects": ["orders.>"], "storage": "file"}
    return bus.request(ACCOUNT, "$JS.API.STREAM.CREATE.S", body)


def test_default_fsyncs_before_each_ack(make_js, fsyncs: list[int]) -> None:
    js, bus = make_js()
    assert "error" not in create(bus)
    for i in range(3):
        before = len(fsyncs)
        ack = bus.request(ACCOUNT, "orders.x", b"m%d" % i)
        assert ack["seq"] == i + 1
        assert len(fsyncs) == before + 1  # the ack came after its record's fsync


def test_sync_interval_acks_from_the_page_cache_then_fsyncs_on_the_tick(
    make_js, fsyncs: list[int]
) -> None:
    js, bus = make_js(sync_interval=0.05)
    assert "error" not in create(bus)
    js.tick()  # a sync of what the create wrote, so the count below starts clean
    before = len(fsyncs)
    acks = [bus.request(ACCOUNT, "orders.x", b"m%d" % i) for i in range(5)]
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
    assert len(fsyncs) == before  # acked, nothing fsynced yet
    js.tick()  # within the interval: still nothing
    assert len(fsyncs) == before
    time.sleep(0.06)
    js.tick()  # the interval has passed: one fsync for all five
    assert len(fsyncs) == before + 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("always", None), ("ALWAYS", None), ("2m", 120.0), ("1m30s", 90.0), ("250ms", 0.25),
     (2_000_000, 2_000_000.0)],  # unquoted 2m: nats-server reads 2,000,000 seconds
)  # fmt: skip
def test_sync_interval_values(value: object, seconds: float | None, tmp_path: Path) -> None:
    config = parse_config({"sync_interval": value}, default_dir=tmp_path)
    assert config.sync_interval == seconds
    assert parse_config({}, default_dir=tmp_path).sync_interval is None  # default: always


@pytest.mark.parametrize("value", ["never", "", "0s", 0, -5, True, 1.5, "2x", [1]])
def test_bad_sync_interval_is_refused(value: object, tmp_path: Path) -> None:
    with pytest.raises(JsConfigError, match="sync_interval"):
        parse_config({"sync_interval": value}, default_dir=tmp_path)
