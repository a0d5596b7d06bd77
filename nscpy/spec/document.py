"""From spec texts to one merged TOML tree that still knows where each value came from.

Steps, all pure: parse each text with tomllib (syntax errors keep tomllib's line and column),
substitute ``${VAR}`` in strings (``[vars]`` defaults, then -V/--vars values; ``$${`` is a
literal ``${``), deep-merge overlay files in order (a later file wins; tables merge, anything
else is replaced), then merge each account's templates (``use``) under its own fields. Merging
records an origin for every merged key, so a problem found in a value that came from a template
or an overlay is reported at the line that wrote it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

from nscpy.spec.errors import SpecIssue
from nscpy.spec.positions import KeyPath, Position, Positions, scan_positions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = ["Document", "load_document"]

_VAR = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_MAX_HOPS = 64


class Document:
    """The merged tree and a way back from any of its paths to a file position."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        # merged path -> (file positions, path in that file) for values set directly by a file
        self._files: dict[KeyPath, tuple[Positions, KeyPath]] = {}
        # merged path -> merged path it was copied from (templates)
        self._copies: dict[KeyPath, KeyPath] = {}
        self.issues: list[SpecIssue] = []

    def position(self, path: KeyPath) -> Position:
        """Where the value at path (or its nearest ancestor) was written."""
        for _ in range(_MAX_HOPS):
            src = _longest(self._copies, path)
            if src is None:
                break
            prefix, target = src
            path = (*target, *path[len(prefix) :])
        found = _longest(self._files, path)
        if found is None:
            first = next(iter(self._files.values()), None)
            return Position(first[0].file if first else "<spec>", 1, 1)
        prefix, (positions, base) = found
        where: Position = positions.at((*base, *path[len(prefix) :]))
        return where

    def issue(self, path: KeyPath, message: str) -> None:
        """Record a problem at path."""
        self.issues.append(SpecIssue(self.position(path), message))

    # -- building ----------------------------------------------------------------------------
    def overlay(self, data: dict[str, Any], positions: Positions) -> None:
        """Merge one file's tree over what is there."""
        _merge(self.data, data, (), lambda p: self._files.__setitem__(p, (positions, p)))

    def copy_under(self, target: KeyPath, source: KeyPath) -> None:
        """Merge the table at source under the table at target (target's own keys win)."""
        dst = self.get(target)
        src = self.get(source)
        if not isinstance(dst, dict) or not isinstance(src, dict):
            return
        merged: dict[str, Any] = _deep_copy(src)
        _merge(merged, dst, (), lambda _p: None)
        # keys only the template has are traced back to the template's lines
        for sub in _only_in(src, dst, ()):
            merged_path: KeyPath = (*target, *sub)
            self._copies[merged_path] = (*source, *sub)
        parent = self.get(target[:-1])
        assert isinstance(parent, dict)
        parent[target[-1]] = merged

    def get(self, path: KeyPath) -> Any:
        """The value at path, or None."""
        node: Any = self.data
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node


def _only_in(src: dict[str, Any], dst: dict[str, Any], prefix: KeyPath) -> list[KeyPath]:
    out: list[KeyPath] = []
    for key, value in src.items():
        if key not in dst:
            out.append((*prefix, key))
        elif isinstance(value, dict) and isinstance(dst[key], dict):
            out += _only_in(value, dst[key], (*prefix, key))
    return out


def _longest(table: Mapping[KeyPath, Any], path: KeyPath) -> tuple[KeyPath, Any] | None:
    probe = tuple(path)
    while True:
        if probe in table:
            return probe, table[probe]
        if not probe:
            return None
        probe = probe[:-1]


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _merge(dst: dict[str, Any], src: dict[str, Any], path: KeyPath, note: Any) -> None:
    for key, value in src.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            note(here)
            _merge(dst[key], value, here, note)
        else:
            dst[key] = _deep_copy(value)
            note(here)
            _note_all(value, here, note)


def _note_all(value: Any, path: KeyPath, note: Any) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            note((*path, key))
            _note_all(sub, (*path, key), note)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            note((*path, i))
            _note_all(sub, (*path, i), note)


def _substitute(
    value: Any, path: KeyPath, variables: Mapping[str, str], doc: Document, positions: Positions
) -> Any:
    if isinstance(value, str):
        if "$" not in value:
            return value

        def replace(m: re.Match[str]) -> str:
            if m.group(1):
                return "${" + m.group(2) + "}"
            name = m.group(2)
            if name not in variables:
                doc.issues.append(
                    SpecIssue(
                        positions.at(path),
                        f"undefined variable ${{{name}}}: pass -V {name}=VALUE, --vars FILE, "
                        "or set it in [vars]",
                    )
                )
                return m.group(0)
            return variables[name]

        return _VAR.sub(replace, value)
    if isinstance(value, dict):
        return {k: _substitute(v, (*path, k), variables, doc, positions) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, (*path, i), variables, doc, positions) for i, v in enumerate(value)]
    return value


def load_document(sources: list[tuple[str, str]], variables: Mapping[str, str]) -> Document:
    """Parse, substitute and merge spec texts ([(file name, text)], base first)."""
    doc = Document()
    for name, text in sources:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS.search(str(exc))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            reason = _TOML_POS.sub("", str(exc)).strip()
            doc.issues.append(SpecIssue(Position(name, line, col), f"invalid TOML: {reason}"))
            continue
        positions = scan_positions(text, name)
        defaults = data.get("vars", {})
        merged_vars: dict[str, str] = {}
        if isinstance(defaults, dict):
            for key, value in defaults.items():
                if isinstance(value, (str, int, float, bool)):
                    merged_vars[key] = str(value).lower() if isinstance(value, bool) else str(value)
                else:
                    doc.issues.append(
                        SpecIssue(positions.at(("vars", key)), "a variable must be a string")
                    )
        merged_vars.update(variables)
        body = {k: v for k, v in data.items() if k != "vars"}
        doc.overlay(_substitute(body, (), merged_vars, doc, positions), positions)
    return doc
