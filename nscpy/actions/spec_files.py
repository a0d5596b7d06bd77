"""Reading spec files and variable files for plan/apply (the only file I/O of the spec path)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from nscpy.actions.errors import UsageProblem
from nscpy.spec.model import Spec
from nscpy.spec.parse import parse_spec

__all__ = ["parse_var", "read_spec"]


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read {str(path)!r}: {exc}") from None


def parse_var(text: str) -> tuple[str, str]:
    """-V KEY=VALUE."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageProblem(f"-V {text!r}: expected KEY=VALUE")
    return key.strip(), value


def read_spec(
    files: Sequence[Path], variables: Sequence[str] = (), var_files: Sequence[Path] = ()
) -> Spec:
    """The spec from files (later files overlay earlier ones), with --vars files then -V."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

    values: dict[str, str] = {}
    for path in var_files:
        try:
            data = tomllib.loads(_read(path))
        except tomllib.TOMLDecodeError as exc:
            raise UsageProblem(f"--vars {str(path)!r} is not TOML: {exc}") from None
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                raise UsageProblem(f"--vars {str(path)!r}: {key} must be a plain value")
            values[key] = str(value).lower() if isinstance(value, bool) else str(value)
    for item in variables:
        key, value = parse_var(item)
        values[key] = value
    return parse_spec([(str(p), _read(p)) for p in files], values)
