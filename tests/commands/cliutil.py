"""Helpers for CLI tests: run the real entry point in-process, and fingerprint a directory."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
from pathlib import Path

from nscpy.commands.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str, check_json: bool = True) -> tuple[int, str, str]:
    """Run `nscpy argv...` through main() (the console script); returns (code, stdout, stderr).

    A successful --json run is checked against its schema in nscpy/schemas (check_json)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    if code == 0 and check_json:
        # every --json document the suite produces is checked against nscpy/schemas
        from tests.schemas.check import check_output

        check_output(argv, out.getvalue())
    return code, out.getvalue(), err.getvalue()


def ok(*argv: str) -> str:
    """Run and insist on success; returns stdout."""
    code, out, err = run(*argv)
    assert code == 0, f"nscpy {' '.join(argv)} -> {code}\n{out}{err}"
    return out


def fingerprint(root: Path) -> dict[str, str]:
    """{relative path: 'dir <mode>', 'link <target>' or '<mode> <sha256>'} for everything under
    root (links are not followed)."""
    found: dict[str, str] = {}
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            if stat.S_ISDIR(st.st_mode):
                found[rel] = f"dir {stat.S_IMODE(st.st_mode):o}"
            elif stat.S_ISLNK(st.st_mode):
                found[rel] = f"link {os.readlink(full)}"
            else:
                digest = hashlib.sha256(Path(full).read_bytes()).hexdigest()
                found[rel] = f"{stat.S_IMODE(st.st_mode):o} {digest}"
    return found
