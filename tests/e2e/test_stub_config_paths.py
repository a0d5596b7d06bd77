"""Relative paths in a config, nats-server 2.15.1 beside the stub, each started from a working
directory that is not the config's: the resolver dir, the operator JWT file, pid_file and
log_file are relative to the working directory; `include` is relative to the including file.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import pytest

from nscpy.serverconfig import nats_resolver_config
from tests.resolver.mint import World
from tests.support.natsserver import free_port, nats_server_binary, stop, wait_for_info

pytestmark = pytest.mark.e2e

KINDS = ("nats-server", "stub")


def _argv(kind: str, conf: Path, port: int) -> list[str]:
    program = (
        [nats_server_binary()] if kind == "nats-server" else [sys.executable, "-m", "server_stub"]
    )
    return [*program, "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)]


@contextmanager
def _serving(
    kind: str, conf: Path, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[dict[str, object]]:
    """The server started from `cwd` (with `env` added to the environment); yields its INFO."""
    port = free_port()
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        _argv(kind, conf, port),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        info = wait_for_info(port, proc=proc)
        yield json.loads(info.split(b" ", 1)[1])
    finally:
        stop(proc)


def _refused(kind: str, conf: Path, cwd: Path) -> tuple[int, str]:
    """Exit code and stderr of a server that must refuse its config (bounded: 20 s)."""
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        _argv(kind, conf, free_port()), cwd=cwd, capture_output=True, text=True, timeout=20
    )
    return done.returncode, done.stderr


@pytest.fixture
def world() -> World:
    return World.create()


def _generated(world: World, conf_dir: Path) -> Path:
    """What `nscpy generate config --nats-resolver` writes: `resolver { dir: './jwt' }`."""
    conf_dir.mkdir(parents=True)
    text = nats_resolver_config(
        "OP", world.operator_jwt, "SYS", world.sys.pub, world.account_jwt(world.sys), cache=False
    )
    assert "dir: './jwt'" in text
    conf = conf_dir / "server.conf"
    conf.write_text(text)
    return conf


def test_resolver_dir_is_made_in_the_working_directory(tmp_path: Path, world: World) -> None:
    seen: dict[str, tuple[bool, bool, list[str]]] = {}
    for kind in KINDS:
        conf = _generated(world, tmp_path / kind / "conf")
        cwd = tmp_path / kind / "cwd"
        with _serving(kind, conf, cwd):
            made = cwd / "jwt"
            files = sorted(p.name for p in made.iterdir()) if made.is_dir() else []
            seen[kind] = (made.is_dir(), (conf.parent / "jwt").exists(), files)
    assert seen["stub"] == seen["nats-server"]
    assert seen["stub"][:2] == (True, False)


def _with_operator_file(world: World, conf_dir: Path, value: str) -> Path:
    """The generated config with `operator: "<value>"` instead of the inline JWT."""
    conf = _generated(world, conf_dir)
    lines = [
        f'operator: "{value}"' if line.startswith("operator:") else line
        for line in conf.read_text().splitlines()
    ]
    conf.write_text("\n".join(lines) + "\n")
    return conf


def test_relative_operator_file_beside_the_config_only_is_refused(
    tmp_path: Path, world: World
) -> None:
    errors: dict[str, tuple[int, str]] = {}
    for kind in KINDS:
        conf = _with_operator_file(world, tmp_path / kind / "conf", "op.jwt")
        (conf.parent / "op.jwt").write_text(world.operator_jwt)
        errors[kind] = _refused(kind, conf, tmp_path / kind / "cwd")
    # nats-server makes the resolver dir while parsing, before it reports the operator error;
    # the stub refuses before it makes anything
    assert (tmp_path / "nats-server" / "cwd" / "jwt").is_dir()
    assert not (tmp_path / "stub" / "cwd" / "jwt").exists()
    code, err = errors["nats-server"]
    assert code == 1
    assert "error parsing operator JWT: open op.jwt: no such file or directory" in err
    code, err = errors["stub"]
    cwd = tmp_path / "stub" / "cwd"
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"server_stub: {conf}:"), err
    assert err.endswith(
        f": cannot read operator JWT {cwd / 'op.jwt'} (relative to the working directory):"
        " No such file or directory\n"
    ), err


def test_relative_operator_file_in_the_working_directory_is_read(
    tmp_path: Path, world: World
) -> None:
    names: dict[str, object] = {}
    for kind in KINDS:
        conf = _with_operator_file(world, tmp_path / kind / "conf", "op.jwt")
        cwd = tmp_path / kind / "cwd"
        cwd.mkdir(parents=True)
        (cwd / "op.jwt").write_text(world.operator_jwt)
        with _serving(kind, conf, cwd) as info:
            names[kind] = info.get("auth_required")
    assert names == {"nats-server": True, "stub": True}


def test_pid_and_log_files_are_written_in_the_working_directory(tmp_path: Path) -> None:
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        conf_dir, cwd = tmp_path / kind / "conf", tmp_path / kind / "cwd"
        conf_dir.mkdir(parents=True)
        conf = conf_dir / "server.conf"
        conf.write_text('pid_file: "s.pid"\nlog_file: "s.log"\n')
        with _serving(kind, conf, cwd):
            seen[kind] = sorted(p.name for p in cwd.iterdir())
        assert sorted(p.name for p in conf_dir.iterdir()) == ["server.conf"]
    assert seen == {"nats-server": ["s.log", "s.pid"], "stub": ["s.log", "s.pid"]}


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    names: dict[str, object] = {}
    for kind in KINDS:
        conf_dir, cwd = tmp_path / kind / "conf", tmp_path / kind / "cwd"
        conf_dir.mkdir(parents=True)
        cwd.mkdir(parents=True)
        (conf_dir / "inc.conf").write_text("server_name: beside_the_config\n")
        (cwd / "inc.conf").write_text("server_name: in_the_working_directory\n")
        conf = conf_dir / "server.conf"
        conf.write_text('include "inc.conf"\n')
        with _serving(kind, conf, cwd) as info:
            names[kind] = info["server_name"]
    assert names == {"nats-server": "beside_the_config", "stub": "beside_the_config"}


def _write_cert(where: Path) -> None:
    import trustme

    cert = trustme.CA().issue_cert("127.0.0.1")
    where.mkdir(parents=True, exist_ok=True)
    cert.private_key_pem.write_to_path(str(where / "k.pem"))
    cert.cert_chain_pems[0].write_to_path(str(where / "c.pem"))


def test_tls_files_are_read_from_the_working_directory(tmp_path: Path) -> None:
    errors: dict[str, tuple[int, str]] = {}
    started: dict[str, object] = {}
    for kind in KINDS:
        conf_dir = tmp_path / kind / "conf"
        _write_cert(conf_dir)  # beside the config only: refused
        conf = conf_dir / "server.conf"
        conf.write_text('tls { cert_file: "c.pem", key_file: "k.pem" }\n')
        errors[kind] = _refused(kind, conf, tmp_path / kind / "cwd")
        _write_cert(tmp_path / kind / "cwd")  # in the working directory: served
        with _serving(kind, conf, tmp_path / kind / "cwd") as info:
            started[kind] = info.get("tls_required")
    assert started == {"nats-server": True, "stub": True}
    code, err = errors["nats-server"]
    assert code == 1
    assert "error parsing X509 certificate/key pair: open c.pem: no such file or directory" in err
    cwd = tmp_path / "stub" / "cwd"
    assert errors["stub"] == (
        1,
        f"server_stub: tls: cannot read cert_file {cwd / 'c.pem'}: No such file or directory\n",
    )


def test_jetstream_without_store_dir_stores_under_tmpdir(tmp_path: Path) -> None:
    """`jetstream {}` without store_dir: nats-server stores under $TMPDIR/nats/jetstream (Go's
    os.TempDir), not beside the config nor in the working directory."""

    async def make_stream(url: str) -> None:
        client = await nats.connect(url)
        js = client.jetstream()
        await js.add_stream(name="KEPT", subjects=["kept"])
        await js.publish("kept", b"x")
        await client.close()

    seen = {}
    for kind in KINDS:
        conf_dir, cwd, tmp = (tmp_path / kind / d for d in ("conf", "cwd", "tmp"))
        conf_dir.mkdir(parents=True)
        tmp.mkdir()
        conf = conf_dir / "server.conf"
        conf.write_text("jetstream {}\n")
        with _serving(kind, conf, cwd, {"TMPDIR": str(tmp)}) as info:
            asyncio.run(asyncio.wait_for(make_stream(f"nats://127.0.0.1:{info['port']}"), 20))
        made = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("KEPT"))
        seen[kind] = (made, sorted(p.name for p in conf_dir.iterdir()), list(cwd.iterdir()))
    assert seen["stub"] == seen["nats-server"]
    assert seen["stub"][0] == ["nats/jetstream/$G/streams/KEPT"]
