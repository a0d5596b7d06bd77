"""The full resolver's directory and files: 0700/0600 whatever the umask, and planted links are
neither written through nor read (issue #10 item 12)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_stub.resolver import AccountStore

ACCOUNT = "A" + "B" * 55


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_dirs_0700_and_files_0600_under_umask_000(tmp_path: Path, umask_000: None) -> None:
    directory = tmp_path / "nats" / "jwt"
    store = AccountStore(directory)
    store.put(ACCOUNT, "token-1")
    store.put(ACCOUNT, "token-2")
    assert _mode(tmp_path / "nats") == 0o700 and _mode(directory) == 0o700
    assert _mode(directory / f"{ACCOUNT}.jwt") == 0o600
    assert sorted(p.name for p in directory.iterdir()) == [f"{ACCOUNT}.jwt"]  # no temp left
    assert AccountStore(directory).get(ACCOUNT) == "token-2"
    store.allow_delete = True
    store.delete(ACCOUNT)
    assert _mode(directory / f"{ACCOUNT}.jwt.deleted") == 0o600


def test_planted_links_are_replaced_not_followed(tmp_path: Path, umask_000: None) -> None:
    # The attack of item 12: in a resolver dir others can write, a link at the old fixed temp
    # name (or at the JWT's own name) made a root-run stub overwrite the link's target.
    directory = tmp_path / "jwt"
    directory.mkdir(mode=0o777)
    secret = tmp_path / "root-only"
    secret.write_text("do not touch")
    (directory / f"{ACCOUNT}.jwt.tmp").symlink_to(secret)
    (directory / f"{ACCOUNT}.jwt").symlink_to(secret)
    store = AccountStore(directory)
    assert store.get(ACCOUNT) is None  # the planted JWT link was not read either
    store.put(ACCOUNT, "token")
    assert secret.read_text() == "do not touch"
    jwt_file = directory / f"{ACCOUNT}.jwt"
    assert not jwt_file.is_symlink() and jwt_file.read_text() == "token"
    assert _mode(jwt_file) == 0o600


def test_world_writable_dir_and_links_are_reported(
    tmp_path: Path, umask_000: None, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "jwt"
    directory.mkdir(mode=0o777)
    (directory / f"{ACCOUNT}.jwt").symlink_to(tmp_path / "elsewhere.jwt")
    with caplog.at_level(logging.WARNING, logger="server_stub"):
        AccountStore(directory)
    text = caplog.text
    assert "writable by others (mode 0777)" in text
    assert f"skipping {directory / ACCOUNT}.jwt" in text
