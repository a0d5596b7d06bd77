"""What the key rotations share: the in-progress record, re-signing in a batch, the report.

Theory of operation. A rotation runs in phases (start, push, finish; or emergency) that a
pipeline may run hours apart, and any phase may be killed half-way. Each phase that changes
the store stages all of its writes (new seed, account or operator JWT, re-signed JWTs, creds,
and a small record of the rotation in progress) in one store batch under the operator lock, so
the store flips from the old state to the new one at once. The record,
``<operator>/.rotations/<name>.json``, names the old and the new key and the phase reached; a
phase run again reads it and carries on from there, so re-running the command that was killed
completes it. The record is removed by the last step of finish (after its push succeeded).
Neither nsc nor nscpy lists dot-directories, so the record never looks like an account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import keys
from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.jwt import Claims, encode, format_user_creds
from nscpy.store.jwtstore import StoreBatch

STARTED = "started"
"""The new key is in place beside the old one and what the old key signed is re-signed."""
FINISHING = "finishing"
"""The old key is gone from the store; what is left is pushing that to the servers."""

_RECORD_FIELDS = ("kind", "subject", "old", "new", "phase")


@dataclass
class Rotation:
    """A rotation in progress, as recorded in the store."""

    kind: str
    """'signing-key' (an account's) or 'operator-signing-key'."""
    subject: str
    """The account or operator whose signing key rotates."""
    old: str
    new: str
    phase: str = STARTED

    def to_json(self) -> dict[str, str]:
        """The record's JSON (public keys only)."""
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


def record_path(ws: Workspace, operator: str, name: str) -> Path:
    """Where the record of a rotation of `name` (an account name, or 'operator') lives."""
    return ws.paths.operator_dir(operator) / ".rotations" / f"{name}.json"


def read_record(ws: Workspace, operator: str, name: str, kind: str) -> Rotation | None:
    """The rotation in progress for `name`, or None."""
    path = record_path(ws, operator, name)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ActionError(f"the rotation record {str(path)!r} cannot be read: {exc}") from None
    if not isinstance(raw, dict) or any(not isinstance(raw.get(f), str) for f in _RECORD_FIELDS):
        raise ActionError(f"the rotation record {str(path)!r} is damaged: remove it and retry")
    record = Rotation(**{f: raw[f] for f in _RECORD_FIELDS})
    if record.kind != kind or record.phase not in (STARTED, FINISHING):
        raise ActionError(f"the rotation record {str(path)!r} is not a {kind} rotation")
    return record


def stage_record(batch: StoreBatch, path: Path, record: Rotation | None) -> None:
    """Stage the record's new content (None: its removal) in the phase's batch."""
    if record is None:
        batch.raw.remove(path)
    else:
        batch.raw.write(path, json.dumps(record.to_json(), indent=2) + "\n")


@dataclass
class Touched:
    """One entity a phase wrote (or, in a dry run, would write)."""

    kind: str
    name: str
    public_key: str
    change: str
    path: str | None = None
    creds: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (public keys and paths only)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "public_key": self.public_key,
            "change": self.change,
            "jwt": self.path,
            "creds": self.creds,
        }


@dataclass
class RotationReport:
    """What a phase did: the keys, the phase reached, every entity touched, and the push."""

    command: str
    phase: str
    operator: str
    subject_name: str
    old_key: str
    new_key: str
    state: str
    dry_run: bool = False
    resumed: bool = False
    touched: list[Touched] = field(default_factory=list)
    push: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    error: str = ""
    """Why the phase's push failed (the store keeps the record: re-running retries)."""

    def to_json(self) -> dict[str, Any]:
        """The report as --json prints it (see nscpy/schemas/rotate-*.json)."""
        return {
            "command": self.command,
            "phase": self.phase,
            "operator": self.operator,
            "name": self.subject_name,
            "old_key": self.old_key,
            "new_key": self.new_key,
            "state": self.state,
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "touched": [t.to_json() for t in self.touched],
            "push": self.push,
            "notes": self.notes,
            "error": self.error or None,
        }


def resign_users(
    ws: Workspace, batch: StoreBatch, account: str, old: str, signer: keys.KeyPair
) -> list[Touched]:
    """Stage every user of account issued by `old`, re-signed by signer with all its claims
    kept, and its creds rewritten when the user's seed is stored."""
    from nscpy.actions.entities import load_user

    touched: list[Touched] = []
    now = ws.now()
    operator = batch.operator
    for user in ws.store.list_users(operator, account):
        claims = load_user(ws, operator, account, user)
        if claims.issuer != old:
            continue
        token = encode(claims, signer, iat=now)
        path = batch.write_user(account, user, token)
        touched.append(_with_creds(ws, batch, account, user, claims, token, path))
    return touched


def _with_creds(
    ws: Workspace,
    batch: StoreBatch,
    account: str,
    user: str,
    claims: Claims,
    token: str,
    path: Path,
) -> Touched:
    seed = ws.keystore.get(claims.subject)
    creds = None
    if seed is not None:
        creds = str(batch.write_creds(account, user, format_user_creds(token, seed)))
    return Touched("user", user, claims.subject, "re-signed", str(path), creds)


def stored_pair(ws: Workspace, public_key: str, what: str) -> keys.KeyPair:
    """The key pair of a stored seed; ActionError naming `what` if it is missing."""
    seed = ws.keystore.get(public_key)
    if seed is None:
        raise ActionError(f"the seed of {what} {public_key} is not in the keystore")
    return keys.KeyPair.from_seed(seed)
