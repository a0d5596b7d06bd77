"""Probe: every file the CLI writes is 0600 and every directory 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.cliutil import ok


@pytest.fixture(params=[0o000, 0o022, 0o077], ids=["umask000", "umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            out[str(full.relative_to(root))] = stat.S_IMODE(os.lstat(full).st_mode)
    return out


def test_modes_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "nsc"
    h = ("-H", str(home))
    ok(*h, "init", "-n", "demo")
    ok(*h, "add", "user", "-a", "demo", "-n", "bob", "--allow-pub", "a.>")
    ok(*h, "edit", "account", "demo", "--sk", "generate")
    ok(*h, "edit", "user", "-a", "demo", "-n", "bob", "--tag", "t")
    ok(*h, "revoke", "user", "-a", "demo", "-n", "bob")
    ok(*h, "generate", "creds", "-a", "demo", "-n", "bob", "-o", str(home / "bob.creds"))
    ok(*h, "describe", "user", "-a", "demo", "-n", "bob", "-o", str(home / "bob.txt"))
    ok(*h, "export", "keys", "--all", "--dir", str(home / "export"))
    modes = _modes(home)
    assert len(modes) > 20
    wrong = {
        path: oct(mode)
        for path, mode in modes.items()
        if mode != (0o700 if (home / path).is_dir() else 0o600)
    }
    assert wrong == {}
