"""JetStream on a full disk (a real 3 MB tmpfs) and on damaged files, stub beside nats-server.

The stub runs as `python -m server_stub` (its log is read back) in operator mode, the clients are
nats-py. The rule: every acknowledged message is served after a restart or named lost in the
log, the first client is never disconnected, and the account keeps working — new streams can be
created and undamaged streams serve. nats-server runs the same story; the printed line puts the
two side by side (its own figures are shown, not asserted: we test our server, not theirs).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import nats.errors
import nats.js.errors
import pytest

from nscpy import jwt
from tests.server_stub.chain import Chain, Creds
from tests.server_stub.harness import NATS_SERVER, free_port, run
from tests.support.jslosses import lost_in_log, unaccounted
from tests.support.natsserver import wait_for_info

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

KINDS = ("stub", "nats-server")
PAYLOAD = 1000


def unlimited(claims: jwt.AccountClaims) -> None:
    limits = claims.limits.jetstream
    limits.disk_storage = limits.mem_storage = limits.streams = limits.consumer = -1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs, unmounted afterwards; skipped where mounting is not permitted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode:
            subprocess.run(["umount", "-l", str(mount)], check=False)


@contextlib.contextmanager
def serving(
    kind: str, conf: Path, log: Path, procs: list[subprocess.Popen[bytes]] | None = None
) -> Iterator[str]:
    """The stub or nats-server on `conf`, output appended to `log`, stopped with SIGTERM."""
    port = free_port()
    if kind == "stub":
        argv = [sys.executable, "-m", "server_stub", "-c", str(conf), "-p", str(port)]
    else:
        argv = [str(NATS_SERVER), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out, cwd=conf.parent)
    if procs is not None:
        procs.append(proc)
    try:
        wait_for_info(port, 15.0, proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()  # the stub closes its stores cleanly on SIGTERM, as nats-server does
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def config(chain: Chain, name: str, store: Path, key: str = "the-right-key") -> Path:
    block = f'jetstream {{ store_dir: "{store}", cipher: chachapoly, key: "{key}" }}\n'
    return chain.config(name, extra=block)


async def connect(url: str, creds: Creds) -> Any:
    return await nats.connect(
        url, user_credentials=str(creds.path), allow_reconnect=False, max_reconnect_attempts=0
    )


async def close(nc: Any, disconnects: list[str]) -> None:
    """Close the client, noting whether the server had dropped it before."""
    if not nc.is_connected:
        disconnects.append(f"dropped by the server ({nc.last_error!r})")
    await nc.close()


async def outcome(call: Any) -> Any:
    """A call's result, or its API error as (code, err_code), or the exception's name."""
    try:
        return await call
    except nats.js.errors.APIError as exc:
        return (exc.code, exc.err_code)
    except Exception as exc:
        return type(exc).__name__


async def fill_disk(url: str, creds: Creds, filler: Path, acked: dict[int, bytes]) -> dict:
    """Publish until the disk is full, free the filler, publish 30 more."""
    report: dict[str, Any] = {"refused": {}, "disconnects": []}
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=3)
    await js.add_stream(name="D", subjects=["d.>"])

    async def publish(number: int) -> bool:
        payload = b"%06d-" % number + b"x" * PAYLOAD
        result = await outcome(js.publish("d.x", payload))
        if isinstance(result, tuple | str):
            report["refused"][str(result)] = report["refused"].get(str(result), 0) + 1
            return False
        acked[result.seq] = payload
        return True

    failures = 0
    for number in range(100_000):  # bounded: 3 MB hold about 2,000 of these
        failures = 0 if await publish(number) else failures + 1
        if failures == 12:
            break
    report["full_acks"] = len(acked)
    report["new_stream_while_full"] = await outcome(js.add_stream(name="W", subjects=["w"]))
    filler.unlink()
    before = len(acked)
    for number in range(100_000, 100_030):
        await publish(number)
    report["acks_after_freeing"] = len(acked) - before
    await close(nc, report["disconnects"])
    return report


async def check_after_restart(url: str, creds: Creds, acked: dict[int, bytes]) -> dict:
    disconnects: list[str] = []
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=3)
    found: dict[int, bytes] = {}
    for seq in acked:
        got = await outcome(js.get_msg("D", seq))
        if not isinstance(got, tuple | str):
            found[seq] = got.data
    created = await outcome(js.add_stream(name="AFTER", subjects=["after"]))
    published = await outcome(js.publish("after", b"works"))
    await close(nc, disconnects)
    return {
        "found": found,
        "new_stream": getattr(getattr(created, "config", None), "name", created),
        "new_publish": getattr(published, "seq", published),
        "disconnects": disconnects,
    }


def full_disk_story(kind: str, tmp_path: Path, disk: Path) -> dict:
    chain = Chain.create(tmp_path, "JS")
    chain.edits["JS"] = [unlimited]
    creds = chain.user("JS")
    filler = disk / "filler"
    filler.write_bytes(os.urandom(1 << 20))
    conf = config(chain, kind, disk / "store")
    log = tmp_path / f"{kind}.log"
    acked: dict[int, bytes] = {}
    with serving(kind, conf, log) as url:
        report = run(fill_disk(url, creds, filler, acked), timeout=240)
    with serving(kind, conf, log) as url:
        report |= run(check_after_restart(url, creds, acked), timeout=240)
    report["acked"] = acked
    report["log"] = log.read_text(errors="replace")
    return report


def test_full_disk_acked_messages_survive_and_the_account_works(
    tmp_path: Path, small_disk: Path
) -> None:
    results = {}
    for kind in KINDS:
        disk = small_disk / kind
        disk.mkdir()
        results[kind] = full_disk_story(kind, tmp_path, disk)
        shutil.rmtree(disk)  # the next server gets the whole 3 MB
    for kind, r in results.items():
        kept = sum(1 for seq, data in r["acked"].items() if r["found"].get(seq) == data)
        print(
            f"\n{kind}: {r['full_acks']} acked until full, refused {r['refused']}, "
            f"{r['acks_after_freeing']}/30 acked after freeing space, "
            f"{kept}/{len(r['acked'])} acked served after restart, "
            f"new stream after restart: {r['new_stream']}"
        )
    stub = results["stub"]
    assert stub["full_acks"] > 500 and stub["refused"]  # the disk really filled up
    assert stub["acks_after_freeing"] == 30
    lost = lost_in_log(stub["log"], "D")
    assert unaccounted(stub["acked"], stub["found"].get, lost) == []
    assert lost == []  # nothing acknowledged was lost, so nothing may be reported lost
    assert (stub["new_stream"], stub["new_publish"]) == ("AFTER", 1)
    assert stub["disconnects"] == [] and "Traceback" not in stub["log"]
    assert "No space left on device" in stub["log"]


async def publish_until_killed(
    url: str, creds: Creds, proc: subprocess.Popen[bytes], acked: dict[int, bytes]
) -> int:
    """Fill the disk, go on publishing into the refusals, SIGKILL the server mid-stream."""
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=3)
    await js.add_stream(name="D", subjects=["d.>"])
    refused = 0
    for number in range(100_000):  # bounded; the kill ends it long before
        payload = b"%06d-" % number + b"x" * PAYLOAD
        if refused == 20:
            proc.send_signal(signal.SIGKILL)  # publishes are in flight: nothing is clean
        result = await outcome(js.publish("d.x", payload))
        if isinstance(result, str) and refused >= 20:
            break  # the connection is gone
        if isinstance(result, tuple | str):
            refused += 1
        else:
            acked[result.seq] = payload
    with contextlib.suppress(Exception):
        await nc.close()
    return refused


def test_killed_on_a_full_disk_every_ack_survives(tmp_path: Path, small_disk: Path) -> None:
    chain = Chain.create(tmp_path, "JS")
    chain.edits["JS"] = [unlimited]
    creds = chain.user("JS")
    filler = small_disk / "filler"
    filler.write_bytes(os.urandom(1 << 20))
    conf = config(chain, "killed", small_disk / "store")
    log = tmp_path / "killed.log"
    acked: dict[int, bytes] = {}
    procs: list[subprocess.Popen[bytes]] = []
    with serving("stub", conf, log, procs) as url:
        refused = run(publish_until_killed(url, creds, procs[0], acked), timeout=240)
    assert procs[0].returncode == -signal.SIGKILL and refused >= 20 and len(acked) > 500
    filler.unlink()
    with serving("stub", conf, log) as url:
        after = run(check_after_restart(url, creds, acked), timeout=240)
    text = log.read_text(errors="replace")
    assert unaccounted(acked, after["found"].get, lost_in_log(text, "D")) == []
    assert (after["new_stream"], after["new_publish"]) == ("AFTER", 1)
    assert "Traceback" not in text


# -- damaged files -------------------------------------------------------------------------
def _stream_files(store: Path, kind: str, stream: str) -> Path:
    """The stream's directory in either server's layout (nats-server: jetstream/<acct>/streams)."""
    found = [p for p in store.rglob(stream) if p.is_dir() and p.parent.name == "streams"]
    assert len(found) == 1, found
    return found[0]


def _flip_middle_of_block(directory: Path) -> None:
    block = sorted((directory / "msgs").glob("*.blk"))[0]
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0x55
    block.write_bytes(bytes(data))


def _truncate_block(directory: Path) -> None:
    block = sorted((directory / "msgs").glob("*.blk"))[0]
    block.write_bytes(block.read_bytes()[: block.stat().st_size // 2])


def _damage_meta(directory: Path) -> None:
    meta = directory / "meta.inf"
    data = bytearray(meta.read_bytes())
    data[len(data) // 2] ^= 0x55
    meta.write_bytes(bytes(data))


async def seed(url: str, creds: Creds, disconnects: list[str]) -> dict[str, dict[int, bytes]]:
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=3)
    acked: dict[str, dict[int, bytes]] = {"DAMAGED": {}, "INTACT": {}}
    for name in acked:
        await js.add_stream(name=name, subjects=[name.lower() + ".>"])
        for i in range(50):
            payload = b"%s %d " % (name.encode(), i) + b"y" * 200
            ack = await js.publish(f"{name.lower()}.{i % 5}", payload)
            acked[name][ack.seq] = payload
    await close(nc, disconnects)
    return acked


async def after_damage(
    url: str, creds: Creds, acked: dict[str, dict[int, bytes]], disconnects: list[str]
) -> dict:
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=3)
    out: dict[str, Any] = {"found": {}}
    for name, messages in acked.items():
        found = out["found"][name] = {}
        for seq in messages:
            got = await outcome(js.get_msg(name, seq))
            if not isinstance(got, tuple | str):
                found[seq] = got.data
    info = await outcome(js.stream_info("DAMAGED"))
    out["damaged_info"] = info if isinstance(info, tuple | str) else info.state.messages
    created = await outcome(js.add_stream(name="NEW", subjects=["new"]))
    out["new_stream"] = getattr(getattr(created, "config", None), "name", created)
    out["new_publish"] = getattr(await outcome(js.publish("new", b"n")), "seq", None)
    out["account_info"] = type(await outcome(js.account_info())).__name__
    await close(nc, disconnects)
    return out


def damage_story(kind: str, tmp_path: Path, damage: str) -> dict:
    chain = Chain.create(tmp_path, "JS")
    chain.edits["JS"] = [unlimited]
    creds = chain.user("JS")
    store = tmp_path / f"{kind}-{damage}-store"
    log = tmp_path / f"{kind}-{damage}.log"
    disconnects: list[str] = []
    with serving(kind, config(chain, f"{kind}-{damage}", store), log) as url:
        acked = run(seed(url, creds, disconnects))
    directory = _stream_files(store, kind, "DAMAGED")
    key = "the-right-key"
    if damage == "flipped byte":
        _flip_middle_of_block(directory)
    elif damage == "meta.inf":
        _damage_meta(directory)
    elif damage == "truncated block":
        _truncate_block(directory)
    else:
        key = "a-wrong-key"
    with serving(kind, config(chain, f"{kind}-{damage}-2", store, key), log) as url:
        out = run(after_damage(url, creds, acked, disconnects))
    out["acked"] = acked
    out["disconnects"] = disconnects
    out["log"] = log.read_text(errors="replace")
    return out


@pytest.mark.parametrize("damage", ["flipped byte", "truncated block", "meta.inf", "wrong key"])
def test_damage_is_isolated_and_the_account_works(tmp_path: Path, damage: str) -> None:
    results = {kind: damage_story(kind, tmp_path, damage) for kind in KINDS}
    for kind, r in results.items():
        served = {name: len(found) for name, found in r["found"].items()}
        print(
            f"\n{damage} / {kind}: served {served} of 50 each, DAMAGED info "
            f"{r['damaged_info']}, new stream {r['new_stream']}, disconnects {r['disconnects']}"
        )
    stub = results["stub"]
    assert stub["disconnects"] == [] and "Traceback" not in stub["log"]
    assert (stub["new_stream"], stub["new_publish"], stub["account_info"]) == (
        "NEW",
        1,
        "AccountInfo",
    )
    if damage == "wrong key":  # every stream sealed under the other key is offline
        assert stub["found"] == {"DAMAGED": {}, "INTACT": {}}
        assert stub["damaged_info"] == (500, 10194)
        assert "different jetstream key" in stub["log"]
        return
    assert stub["found"]["INTACT"] == stub["acked"]["INTACT"]
    damaged = stub["acked"]["DAMAGED"]
    if damage in ("flipped byte", "truncated block"):
        lost = lost_in_log(stub["log"], "DAMAGED")
        assert len(lost) == 1 and lost[0][1] is not None  # exact: the clean stop's index
        assert unaccounted(damaged, stub["found"]["DAMAGED"].get, lost) == []
        assert stub["damaged_info"] == 50 - (lost[0][1] - lost[0][0] + 1)
    else:
        assert stub["damaged_info"] == (500, 10194)
        assert "> DAMAGED' is offline: meta.inf: damaged file" in stub["log"]
