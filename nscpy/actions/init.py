"""`init`: a ready-to-use store in one step, with no prompts."""

from __future__ import annotations

from nscpy.actions.accounts import AccountSpec, add_account
from nscpy.actions.entities import Saved, load_operator
from nscpy.actions.operators import OperatorSpec, add_operator, resign_operator
from nscpy.actions.users import UserSpec, add_user
from nscpy.actions.workspace import Workspace

DEFAULT_SERVICE_URL = "nats://localhost:4222"


def init_store(ws: Workspace, name: str) -> list[Saved]:
    """Operator NAME (+ SYS account and sys user), then account NAME and user NAME with creds."""
    saved = add_operator(ws, OperatorSpec(name=name, sys=True))
    op = load_operator(ws, name)
    # nsc sets the service URL too (its account-server URL line is dead code; we skip it)
    op.operator_service_urls = [DEFAULT_SERVICE_URL]
    resign_operator(ws, name, op)
    saved += add_account(ws, AccountSpec(name=name, operator=name))
    saved += add_user(ws, UserSpec(name=name, account=name, operator=name))
    return saved


def init_from_operator(ws: Workspace, token: str, name: str | None) -> list[Saved]:
    """nsc's `init -u URL | -o NAME`: import the operator's JWT, then account and user NAME
    (the operator's name by default); without the operator's keys the account signs itself."""
    from nscpy.actions.operators import import_operator

    op_saved = import_operator(ws, token)
    local = name or op_saved.name
    saved = [op_saved]
    saved += add_account(ws, AccountSpec(name=local, operator=op_saved.name))
    saved += add_user(ws, UserSpec(name=local, account=local, operator=op_saved.name))
    return saved
