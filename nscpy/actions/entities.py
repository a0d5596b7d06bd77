"""Loading stored claims by name, and what an add/edit reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    JWTError,
    OperatorClaims,
    UserClaims,
    decode_account,
    decode_operator,
    decode_user,
)


@dataclass
class Saved:
    """What an add/edit wrote: the entity, its key, and the files."""

    kind: str
    name: str
    public_key: str
    jwt_path: Path
    creds_path: Path | None = None
    seed_stored: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary (no secrets)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "public_key": self.public_key,
            "jwt": str(self.jwt_path),
            "creds": str(self.creds_path) if self.creds_path else None,
            "seed_stored": self.seed_stored,
            "notes": self.notes,
        }


def load_operator(ws: Workspace, operator: str) -> OperatorClaims:
    """The operator's decoded, signature-checked claims."""
    try:
        return decode_operator(ws.store.read_operator(operator).strip())
    except JWTError as exc:
        raise ActionError(f"the stored JWT of operator {operator!r} is not valid: {exc}") from None


def stored_account(text: str, name: str) -> AccountClaims:
    """Decoded, signature-checked account claims from the stored text of account `name`."""
    try:
        return decode_account(text.strip())
    except JWTError as exc:
        raise ActionError(f"the stored JWT of account {name!r} is not valid: {exc}") from None


def load_account(ws: Workspace, operator: str, account: str) -> AccountClaims:
    """The account's decoded, signature-checked claims."""
    return stored_account(ws.store.read_account(operator, account), account)


def load_user(ws: Workspace, operator: str, account: str, user: str) -> UserClaims:
    """The user's decoded, signature-checked claims."""
    try:
        return decode_user(ws.store.read_user(operator, account, user).strip())
    except JWTError as exc:
        raise ActionError(f"the stored JWT of user {user!r} is not valid: {exc}") from None
