"""What the key rotations share: the in-progress record, steps under one lock, the report.

Theory of operation. A rotation runs in phases (start, push, finish; or emergency) that a
pipeline may run hours apart, and any phase may be killed at any moment. A store batch makes
each file flip atomically, but a kill during its renames can leave some files new and others
old, so a phase is a sequence of small committed batches (nscpy.actions.steps, all under the
operator lock) ordered so that the store is valid after every one of them:

1. the new seed; 2. the record of the rotation (old key, new key, phase),
``<operator>/.rotations/accounts/<account>.json`` (or ``.rotations/operator.json``); 3. the
account (or operator) JWT carrying both keys; 4. the creds of the users (or the accounts) the
old key signed, re-signed by the new key, then their JWTs (creds first: a creds file holding a
newer JWT than the store still connects, and the user is re-signed again on the next run);
5. at finish, the JWT without the old key, then the record's new phase, and after the push the
record's removal.

While both keys are trusted any mix of old- and new-signed JWTs is valid, so a kill between
(or within) steps leaves a store `validate` accepts. Every step checks what is already done
(from the record and the files), so running the killed command again completes it. Neither
nsc nor nscpy lists dot-directories, so the record never looks like an account.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import keys
from nscpy.actions.errors import ActionError
from nscpy.actions.steps import Steps
from nscpy.actions.workspace import Workspace
from nscpy.jwt import UserClaims, encode, format_user_creds

STARTED = "started"
"""The new key is in place beside the old one and what the old key signed is re-signed."""
FINISHING = "finishing"
"""The old key is gone from the store; what is left is pushing that to the servers."""

ACCOUNT_KIND = "signing-key"
OPERATOR_KIND = "operator-signing-key"

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


def record_path(ws: Workspace, operator: str, account: str | None) -> Path:
    """Where the record of a rotation lives: of an account's signing key (by account name),
    or of the operator's (None); apart, since an account may well be named 'operator'."""
    folder = ws.paths.operator_dir(operator) / ".rotations"
    return folder / "operator.json" if account is None else folder / "accounts" / f"{account}.json"


def read_record(ws: Workspace, operator: str, account: str | None, kind: str) -> Rotation | None:
    """The rotation in progress for the account (None: the operator), or None."""
    path = record_path(ws, operator, account)
    try:
        text = ws.store.read_file(path)  # the store's: a shared KV store keeps it too
        if text is None:
            return None
        raw = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ActionError(f"the rotation record {str(path)!r} cannot be read: {exc}") from None
    if not isinstance(raw, dict) or any(not isinstance(raw.get(f), str) for f in _RECORD_FIELDS):
        raise ActionError(f"the rotation record {str(path)!r} is damaged: remove it and retry")
    record = Rotation(**{f: raw[f] for f in _RECORD_FIELDS})
    if record.kind != kind or record.phase not in (STARTED, FINISHING):
        raise ActionError(f"the rotation record {str(path)!r} is not a {kind} rotation")
    return record


def rotations_in_progress(ws: Workspace, operator: str) -> list[tuple[str | None, Rotation]]:
    """(account name, or None for the operator, record) for every rotation left in progress."""
    found: list[tuple[str | None, Rotation]] = []
    record = read_record(ws, operator, None, OPERATOR_KIND)
    if record is not None:
        found.append((None, record))
    folder = record_path(ws, operator, "x").parent
    for name in ws.store.list_files(folder, ".json"):
        record = read_record(ws, operator, name[: -len(".json")], ACCOUNT_KIND)
        if record is not None:
            found.append((name[: -len(".json")], record))
    return found


def pending_operator_key(ws: Workspace, operator: str) -> str:
    """The new key of an operator signing-key rotation in progress ('' if none): until its
    push checked the servers trust it, accounts it signed must not reach them."""
    record = read_record(ws, operator, None, OPERATOR_KIND)
    return record.new if record is not None else ""


def save_record(steps: Steps, path: Path, record: Rotation | None) -> None:
    """Write the record's new content (None: remove it) as a step of its own."""
    with steps.step() as batch:
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

    @classmethod
    def opened(
        cls,
        command: str,
        phase: str,
        operator: str,
        subject_name: str,
        dry_run: bool,
        record: Rotation | None,
    ) -> RotationReport:
        """A phase's report, with the keys and state of the rotation record (if resumed)."""
        return cls(
            command=command,
            phase=phase,
            operator=operator,
            subject_name=subject_name,
            old_key=record.old if record else "",
            new_key=record.new if record else "",
            state=record.phase if record else "",
            dry_run=dry_run,
            resumed=record is not None,
        )

    def note_dry_run(self) -> None:
        """Say so when nothing was written or pushed."""
        if self.dry_run:
            self.notes.append("dry run: nothing was written or pushed")

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
    ws: Workspace, steps: Steps, account: str, old: str, signer: keys.KeyPair
) -> list[Touched]:
    """Re-sign every user of account issued by `old` with signer, all other claims kept:
    the creds (when the user's seed is stored) in one step, then the JWTs in another."""
    from nscpy.actions.entities import load_user

    now = ws.now()
    operator = steps.operator
    moved: list[tuple[str, UserClaims, str]] = []
    for user in ws.store.list_users(operator, account):
        claims = load_user(ws, operator, account, user)
        if claims.issuer == old:
            moved.append((user, claims, encode(claims, signer, iat=now)))
    touched = {user: Touched("user", user, c.subject, "re-signed") for user, c, _ in moved}
    with steps.step() as batch:
        for user, claims, token in moved:
            seed = ws.keystore.get(claims.subject)
            if seed is not None:
                path = batch.write_creds(account, user, format_user_creds(token, seed))
                touched[user].creds = str(path)
    with steps.step() as batch:
        for user, _, token in moved:
            touched[user].path = str(batch.write_user(account, user, token))
    return list(touched.values())


@dataclass(frozen=True)
class Rotating:
    """What open_or_resume needs to know about one side (an account's or the operator's keys)."""

    kind: str
    subject: str
    """The identity key whose signing key rotates."""
    record_path: Path
    prefix: keys.Prefix
    what: str
    """The new key, as error messages name it ("the new signing key")."""
    old_key: Callable[[], str]
    """The key to rotate, from the flags (called only when no rotation is in progress)."""
    check_same: Callable[[Rotation], None]
    """Raise if the flags name another rotation than the one in progress."""


def open_or_resume(
    ws: Workspace,
    steps: Steps,
    record: Rotation | None,
    rotating: Rotating,
    report: RotationReport,
) -> tuple[Rotation, keys.KeyPair]:
    """The rotation's record and new key pair: with no record, a new seed and a new record
    (each a step of its own, so a killed run resumes from them); else the recorded new key,
    after checking the flags name the rotation in progress."""
    if record is None:
        old = rotating.old_key()
        new = keys.create_pair(rotating.prefix)
        steps.put_key(new)
        record = Rotation(rotating.kind, rotating.subject, old, new.public_key, STARTED)
        save_record(steps, rotating.record_path, record)
        report.old_key, report.new_key = record.old, record.new
        return record, new
    rotating.check_same(record)
    return record, stored_pair(ws, record.new, rotating.what)


def stored_pair(ws: Workspace, public_key: str, what: str) -> keys.KeyPair:
    """The key pair of a stored seed; ActionError naming `what` if it is missing."""
    seed = ws.keystore.get(public_key)
    if seed is None:
        raise ActionError(f"the seed of {what} {public_key} is not in the keystore")
    return keys.KeyPair.from_seed(seed)
