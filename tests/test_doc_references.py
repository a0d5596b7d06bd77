"""References in the sources point somewhere: every repository path a docstring, comment or doc
names exists, and nothing cites the design notes that are not in the repository."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("nscpy", "server_stub", "tests", "docs", "bench")
SUFFIXES = {".py", ".md", ".sh", ".go", ".toml"}
# files that name made-up paths on purpose (a synthetic checkout)
MADE_UP = {
    "tests/test_structure_report.py",
    "tests/test_doc_references.py",
    "tests/test_fast_loop.py",
}
REPO_PATH = re.compile(
    r"(?<![\w/.])(?:nscpy|server_stub|tests|bench|docs)/[\w./-]+\.(?:py|md|sh|json|go|toml)\b"
)
# the design notes the project was written from live outside the repository
OUTSIDE = re.compile(
    r"wire-formats\.md|server-behavior\.md|nsc-features\.md|STYLE\.md|style-anchors\.md|§"
)


def _sources() -> list[Path]:
    return sorted(
        p
        for top in SCANNED
        for p in (REPO / top).rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts
    ) + [REPO / "Makefile", REPO / "pyproject.toml", REPO / "README.md"]


def test_every_repository_path_named_exists() -> None:
    missing = []
    for source in _sources():
        rel = str(source.relative_to(REPO))
        if rel in MADE_UP:
            continue
        for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            for path in REPO_PATH.findall(line):
                if "<" not in path and not (REPO / path).exists():
                    missing.append(f"{rel}:{n}: {path}")
    assert missing == []


def test_nothing_cites_notes_outside_the_repository() -> None:
    cited = [
        f"{source.relative_to(REPO)}:{n}: {line.strip()}"
        for source in _sources()
        if source.relative_to(REPO).as_posix() not in MADE_UP
        for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert cited == []
