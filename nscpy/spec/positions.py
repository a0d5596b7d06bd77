"""Where each key of a TOML document sits: key path -> (line, column), for error messages.

tomllib gives positions only for syntax errors; a spec problem (an unknown key, a bad subject)
is found later, on the parsed dict. This pass re-reads text that tomllib has already accepted
and records, for every key path, where its key (or, for an array element, the element) starts.
Paths use strings for keys and ints for array positions, matching the parsed dict:
``("accounts", "ORDERS", "exports", 0, "subject")``. Because the text is known to be valid TOML,
the scanner is lenient: it tracks only what decides paths (headers, keys, arrays, inline tables)
and skips over scalar values.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["KeyPath", "Position", "Positions", "scan_positions"]

KeyPath = tuple["str | int", ...]


class Position(NamedTuple):
    """A 1-based line and column in one file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Positions:
    """Key path -> Position; lookups fall back to the nearest recorded ancestor."""

    def __init__(self, file: str = "<spec>") -> None:
        self.file = file
        self.table: dict[KeyPath, Position] = {}

    def record(self, path: KeyPath, line: int, col: int, *, overwrite: bool = True) -> None:
        """Note where path starts (the first header of a table wins unless overwrite)."""
        if overwrite or path not in self.table:
            self.table[path] = Position(self.file, line, col)

    def update(self, other: Positions) -> None:
        """Take other's positions where both know a path (an overlay file wins)."""
        self.table.update(other.table)

    def at(self, path: KeyPath) -> Position:
        """The position of path, or of its nearest recorded ancestor, or line 1 column 1."""
        probe = tuple(path)
        while probe:
            found = self.table.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return Position(self.file, 1, 1)


_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\n\r")


class _Scanner:
    def __init__(self, text: str, positions: Positions) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.out = positions
        # arrays of tables seen so far: resolved path -> index of the last element
        self.aot: dict[KeyPath, int] = {}

    # -- low-level ---------------------------------------------------------------------------
    def col(self) -> int:
        return self.i - self.line_start + 1

    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < len(self.text) else ""

    def advance(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i >= len(self.text):
                return
            if self.text[self.i] == "\n":
                self.line += 1
                self.line_start = self.i + 1
            self.i += 1

    def skip_ws(self, newlines: bool) -> None:
        while self.i < len(self.text):
            c = self.text[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.advance()
            elif c == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.advance()
            else:
                return

    def skip_line(self) -> None:
        while self.i < len(self.text) and self.text[self.i] != "\n":
            self.advance()
        self.advance()

    # -- strings and keys --------------------------------------------------------------------
    def read_string(self) -> str:
        """A basic or literal string, single- or multi-line; returns its value."""
        quote = self.peek()
        if self.text.startswith(quote * 3, self.i):
            self.advance(3)
            end = self.text.find(quote * 3, self.i)
            # up to two extra quotes may close a multi-line string ("""a"""" is a + ")
            while self.text.startswith(quote, end + 3):
                end += 1
            raw = self.text[self.i : end]
            self.advance(end + 3 - self.i)
            return raw
        self.advance()
        start = self.i
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and quote == '"':
                self.advance(2)
                continue
            if c == quote:
                raw = self.text[start : self.i]
                self.advance()
                return _unescape(raw) if quote == '"' else raw
            self.advance()
        return self.text[start:]

    def read_key(self) -> list[tuple[str, int, int]]:
        """A dotted key: each part with the line and column where it starts."""
        parts: list[tuple[str, int, int]] = []
        while True:
            self.skip_ws(newlines=False)
            line, col = self.line, self.col()
            c = self.peek()
            if c in ('"', "'"):
                parts.append((self.read_string(), line, col))
            else:
                start = self.i
                while self.peek() in _BARE and self.peek():
                    self.advance()
                parts.append((self.text[start : self.i], line, col))
            self.skip_ws(newlines=False)
            if self.peek() == ".":
                self.advance()
                continue
            return parts

    # -- values ------------------------------------------------------------------------------
    def read_value(self, path: KeyPath) -> None:
        c = self.peek()
        if c in ('"', "'"):
            self.read_string()
        elif c == "[":
            self.read_array(path)
        elif c == "{":
            self.read_inline_table(path)
        else:
            while self.i < len(self.text) and self.text[self.i] not in _SCALAR_END:
                self.advance()

    def read_array(self, path: KeyPath) -> None:
        self.advance()  # [
        index = 0
        while True:
            self.skip_ws(newlines=True)
            if self.peek() in ("]", ""):
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            self.out.record((*path, index), self.line, self.col())
            self.read_value((*path, index))
            index += 1

    def read_inline_table(self, path: KeyPath) -> None:
        self.advance()  # {
        while True:
            self.skip_ws(newlines=True)
            if self.peek() in ("}", ""):
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            self.read_pair(path)

    def read_pair(self, prefix: KeyPath) -> None:
        parts = self.read_key()
        path = prefix
        for name, line, col in parts:
            path = (*path, name)
            self.out.record(path, line, col, overwrite=False)
        self.out.record(path, parts[-1][1], parts[-1][2])
        self.skip_ws(newlines=False)
        if self.peek() == "=":
            self.advance()
        self.skip_ws(newlines=False)
        self.read_value(path)

    # -- documents ---------------------------------------------------------------------------
    def resolve(self, names: list[str]) -> KeyPath:
        """A header's path with the current index of each array of tables it passes through."""
        path: KeyPath = ()
        for name in names:
            path = (*path, name)
            if path in self.aot:
                path = (*path, self.aot[path])
        return path

    def read_header(self) -> KeyPath:
        line, col = self.line, self.col()
        array = self.text.startswith("[[", self.i)
        self.advance(2 if array else 1)
        parts = self.read_key()
        names = [name for name, _, _ in parts]
        self.skip_ws(newlines=False)
        self.advance(2 if array else 1)
        # each table on the way gets the position of its name (where it is first mentioned)
        for depth, (_, part_line, part_col) in enumerate(parts):
            self.out.record(self.resolve(names[: depth + 1]), part_line, part_col, overwrite=False)
        if array:
            parent = self.resolve(names[:-1])
            key = (*parent, names[-1])
            self.aot[key] = self.aot.get(key, -1) + 1
            path: KeyPath = (*key, self.aot[key])
            self.out.record(path, line, col, overwrite=False)
        else:
            path = self.resolve(names)
        return path

    def run(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip_ws(newlines=True)
            c = self.peek()
            if not c:
                return
            if c == "[":
                table = self.read_header()
            else:
                self.read_pair(table)
            self.skip_ws(newlines=False)
            if self.peek() not in ("\n", "\r", ""):
                self.skip_line()  # tolerate anything tomllib accepted that we did not model


_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c != "\\" or i + 1 >= len(raw):
            out.append(c)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            out.append(chr(int(raw[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def scan_positions(text: str, file: str = "<spec>") -> Positions:
    """Positions of every key path in TOML text that tomllib has accepted."""
    positions = Positions(file)
    _Scanner(text, positions).run()
    return positions
