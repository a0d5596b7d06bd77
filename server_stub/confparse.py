"""A parser for the nats-server configuration syntax (the subset server_stub reads).

Theory of operation: a hand-written recursive-descent parser over characters. A document is a
map of `key <sep> value` pairs, where <sep> is `=`, `:` or whitespace, and pairs end at a newline,
`,` or `;`. Values are quoted or bare strings, integers with size suffixes (1k = 1000, 1KB = 1024),
floats, booleans (true/yes/on...), maps `{}` and arrays `[]`. `#` and `//` start comments.
`$NAME` refers to a key defined earlier in an enclosing map, or else to an environment variable.
`include "file"` splices another file (relative to the including one). Every map remembers the
line of each key, so later stages can report errors with line numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server_stub.errors import ConfigError

_SIZES = {
    "k": 1000,
    "kb": 1024,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1024**4,
    "ti": 1024**4,
    "tib": 1024**4,
}
_NUMBER = re.compile(r"^(-?\d+)([a-zA-Z]*)$")
_FLOAT = re.compile(r"^-?\d+\.\d+([eE][-+]?\d+)?$")
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_BARE_END = set(",;}]\n\r#")


class ConfMap(dict[str, Any]):
    """A parsed map that remembers where each key was written."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.lines: dict[str, int] = {}
        self.variables: set[str] = set()  # keys used as $NAME: definitions, not settings

    def where(self, key: str) -> str:
        """ "file:line" of a key, for error messages."""
        return f"{self.source}:{self.lines.get(key, 0)}"


class _Parser:
    def __init__(self, text: str, source: str, env: Mapping[str, str], base: Path | None) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.source = source
        self.env = env
        self.base = base
        self.scopes: list[ConfMap] = []
        self.used: set[str] = set()

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"{self.source}:{self.line}: {message}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def advance(self) -> str:
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def skip(self, newlines: bool = True) -> None:
        """Skip blanks and comments (and newlines when asked)."""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.advance()
            elif ch == "#" or self.text.startswith("//", self.pos):
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    def parse_map(self, closing: str) -> ConfMap:
        result = ConfMap(self.source)
        self.scopes.append(result)
        try:
            while True:
                self.skip()
                ch = self.peek()
                if ch == "":
                    if closing:
                        raise self.error(f"missing {closing!r} before end of file")
                    return result
                if ch == closing:
                    self.advance()
                    return result
                if ch in ",;":
                    self.advance()
                    continue
                line = self.line
                key = self.parse_key()
                if key == "include" and self.peek() in (" ", "\t"):
                    self.include(result)
                    continue
                # nats-server's lexer skips any whitespace, newlines too, between a key and
                # its separator or value (`websocket\n{`); after a separator only blanks
                while self.peek().isspace():
                    self.advance()
                self.skip(newlines=False)
                if self.peek() in ("=", ":"):  # a tuple: "" (the end) is in every str
                    self.advance()
                    self.skip(newlines=False)
                value = self.parse_value()
                result[key] = value
                result.lines[key] = line
        finally:
            self.scopes.pop()

    def include(self, into: ConfMap) -> None:
        self.skip(newlines=False)
        name = self.parse_value()
        if not isinstance(name, str):
            raise self.error("include needs a file name")
        path = Path(name) if self.base is None else self.base / name
        try:
            text = path.read_text()
        except OSError as exc:
            raise self.error(f"cannot include {name!r}: {exc.strerror}") from None
        except ValueError:  # not UTF-8
            raise self.error(f"cannot include {name!r}: not a text file") from None
        sub = _Parser(text, str(path), self.env, path.parent)
        sub.scopes = list(self.scopes)
        included = sub.parse_map("")
        into.update(included)
        into.lines.update(included.lines)

    def parse_key(self) -> str:
        ch = self.peek()
        if ch in ('"', "'"):
            return self.parse_quoted()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in " \t\r\n=:{[,;#":
            self.pos += 1
        key = self.text[start : self.pos]
        if not key:
            raise self.error(f"expected a key, found {ch!r}")
        return key

    def parse_quoted(self) -> str:
        quote = self.advance()
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated quoted string")
            ch = self.advance()
            if ch == quote:
                return "".join(out)
            if ch == "\\" and quote == '"' and self.pos < len(self.text):
                esc = self.advance()
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(esc, esc))
            else:
                out.append(ch)

    def parse_value(self) -> Any:
        ch = self.peek()
        if ch == "{":
            self.advance()
            return self.parse_map("}")
        if ch == "[":
            self.advance()
            return self.parse_array()
        if ch in ('"', "'"):
            return self.parse_quoted()
        if ch == "":
            raise self.error("missing value at end of file")
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _BARE_END:
            if self.text.startswith("//", self.pos) and self.pos > start:
                break
            self.pos += 1
        raw = self.text[start : self.pos].strip()
        if not raw:
            raise self.error(f"missing value before {ch!r}")
        return self.convert(raw)

    def parse_array(self) -> list[Any]:
        items: list[Any] = []
        while True:
            self.skip()
            ch = self.peek()
            if ch == "":
                raise self.error("missing ']' before end of file")
            if ch == "]":
                self.advance()
                return items
            if ch == ",":
                self.advance()
                continue
            items.append(self.parse_value())

    def convert(self, raw: str) -> Any:
        if raw.startswith("$"):
            return self.variable(raw[1:])
        low = raw.lower()
        if low in _BOOLS:
            return _BOOLS[low]
        m = _NUMBER.match(raw)
        if m:
            suffix = m.group(2).lower()
            if not suffix:
                return int(m.group(1))
            if suffix in _SIZES:
                return int(m.group(1)) * _SIZES[suffix]
            return raw  # "2m"-style durations stay text; the option reads them
        if _FLOAT.match(raw):
            return float(raw)
        return raw

    def variable(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                scope.variables.add(name)
                return scope[name]
        if name in self.env:
            return self.convert(self.env[name]) if not self.env[name].startswith("$") else name
        raise self.error(f"variable ${name} is not defined (no key or environment variable)")


def parse(text: str, source: str = "<config>", env: Mapping[str, str] | None = None) -> ConfMap:
    """Parse config text into nested ConfMaps, lists and scalars."""
    return _parse(_Parser(text, source, os.environ if env is None else env, None))


def _parse(parser: _Parser) -> ConfMap:
    try:
        return parser.parse_map("")
    except RecursionError:  # the parser recurses once per nested map or array
        raise ConfigError(f"{parser.source}: maps and arrays nested too deeply") from None


def parse_file(path: Path, env: Mapping[str, str] | None = None) -> ConfMap:
    """Parse a config file; `include` paths are relative to it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config {str(path)!r}: {exc.strerror}") from None
    except ValueError:  # not UTF-8
        raise ConfigError(f"cannot read config {str(path)!r}: not a text file") from None
    return _parse(_Parser(text, str(path), os.environ if env is None else env, path.parent))


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")


def duration(value: Any, what: str) -> float:
    """Seconds from a number (seconds) or a Go duration string like "2m" or "1.5s"."""
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be a duration like 2m or a number of seconds, got {value}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        total = 0.0
        rest = value.strip()
        parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", rest)
        if parts and "".join(n + u for n, u in parts) == rest:
            for number, unit in parts:
                total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
            return total
    raise ConfigError(f"{what} must be a duration like 2m or a number of seconds, got {value!r}")
