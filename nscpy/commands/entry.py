"""The `nscpy` console script: the click-free fast path first, then the click CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run nscpy: plain `describe` reads without importing click, everything else through it."""
    from nscpy.commands.fastpath import run

    code = run(sys.argv[1:] if argv is None else argv)
    if code is not None:
        sys.exit(code)
    from nscpy.commands.cli import main as cli_main

    cli_main(argv)
