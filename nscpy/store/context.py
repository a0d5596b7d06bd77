"""nsc.json, the current store root/operator/account, and nsc's context-from-cwd rule.

nsc writes nsc.json as compact JSON with Go field order (store_root, operator, account,
github_updates, last_update). We keep fields we do not own (the update-check ones, or anything
newer) so a file shared with Go nsc round-trips; with NSC_CWD_ONLY it is never read or written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nscpy.gojson import go_dumps
from nscpy.store import atomic
from nscpy.store.errors import CorruptStore
from nscpy.store.layout import ACCOUNTS_DIR, NSC_FILE, StorePaths

__all__ = ["Context", "cwd_context", "load_context", "sane_default", "save_context"]

_OWN = ("store_root", "operator", "account")


class Context:
    """The selection nsc.json records; empty strings mean "not set", as in nsc."""

    __slots__ = ("store_root", "operator", "account", "extra")

    def __init__(
        self,
        store_root: str = "",
        operator: str = "",
        account: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.store_root = store_root
        self.operator = operator
        self.account = account
        self.extra: dict[str, Any] = {} if extra is None else extra

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Context):
            return NotImplemented
        return (self.store_root, self.operator, self.account, self.extra) == (
            other.store_root,
            other.operator,
            other.account,
            other.extra,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        return (
            f"Context(store_root={self.store_root!r}, operator={self.operator!r}, "
            f"account={self.account!r}, extra={self.extra!r})"
        )

    def to_json(self) -> str:
        """nsc.json text: our three fields first, then the preserved ones."""
        doc: dict[str, Any] = {
            "store_root": self.store_root,
            "operator": self.operator,
            "account": self.account,
        }
        doc.update((k, v) for k, v in self.extra.items() if k not in _OWN)
        return go_dumps(doc)

    @classmethod
    def from_json(cls, text: str, where: Path | str = "nsc.json") -> Context:
        """Parse nsc.json text; CorruptStore if it is not a JSON object of strings."""
        try:
            doc = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise CorruptStore(f"{str(where)!r} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise CorruptStore(f"{str(where)!r} must hold a JSON object")
        for key in _OWN:
            if not isinstance(doc.get(key, ""), str):
                raise CorruptStore(f"{str(where)!r}: {key!r} must be a string")
        return cls(
            store_root=doc.get("store_root", ""),
            operator=doc.get("operator", ""),
            account=doc.get("account", ""),
            extra={k: v for k, v in doc.items() if k not in _OWN},
        )


def load_context(paths: StorePaths) -> Context:
    """Read nsc.json from the config dir; an empty Context if absent or NSC_CWD_ONLY is set."""
    if paths.cwd_only:
        return Context()
    path = paths.nsc_json
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return Context()
    except OSError as exc:
        raise atomic.io_error("read", path, exc) from exc
    return Context.from_json(text, path)


def save_context(paths: StorePaths, ctx: Context) -> bool:
    """Atomically write nsc.json (0600); returns False, writing nothing, under NSC_CWD_ONLY."""
    if paths.cwd_only:
        return False
    atomic.atomic_write(paths.nsc_json, ctx.to_json(), root=paths.config_dir)
    return True


def sane_default(current: str, choices: Sequence[str]) -> str:
    """nsc's rule: the only choice, else current if it is still a choice, else ""."""
    if len(choices) == 1:
        return choices[0]
    return current if current in choices else ""


def _operator_name(directory: str) -> str | None:
    try:
        with open(os.path.join(directory, NSC_FILE), encoding="utf-8") as f:
            doc = json.loads(f.read())
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and doc.get("kind") == "operator" and doc.get("name"):
        return str(doc["name"])
    return None


def cwd_context(cwd: str | os.PathLike[str]) -> Context | None:
    """What nsc infers from the working directory (GetCwdCtx), or None.

    An operator directory selects that operator; a directory containing operator directories
    is a store root; anywhere below <op>/accounts/<A>/ also selects account A.
    """
    # plain strings and os.path: every command runs this, and pathlib objects cost ~4x here
    here = os.fspath(cwd).rstrip(os.sep) or os.sep
    name = _operator_name(here)
    if name is not None:
        return Context(store_root=os.path.dirname(here), operator=name)
    try:
        children = [e.path for e in os.scandir(here) if e.is_dir()]
    except OSError:
        return None
    if any(_operator_name(c) is not None for c in children):
        return Context(store_root=here)
    up = here
    while (parent := os.path.dirname(up)) != up:
        up = parent
        name = _operator_name(up)
        if name is None:
            continue
        ctx = Context(store_root=os.path.dirname(up), operator=name)
        rel = here[len(up) :].strip(os.sep).split(os.sep)
        if len(rel) >= 2 and rel[0] == ACCOUNTS_DIR:
            ctx.account = rel[1]
        return ctx
    return None
