"""generate config: a nats-server configuration for the current operator's store."""

from __future__ import annotations

from nscpy.actions.entities import load_operator
from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.jwt import peek
from nscpy.serverconfig import AccountEntry, mem_resolver_config, nats_resolver_config


def _accounts(ws: Workspace, operator: str) -> list[AccountEntry]:
    entries = []
    for account in ws.store.list_accounts(operator):
        token = ws.store.read_account(operator, account).strip()
        entries.append(AccountEntry(account, peek(token).subject, token))
    return entries


def _system_account(
    ws: Workspace, operator: str, entries: list[AccountEntry], sys_account: str | None
) -> AccountEntry | None:
    wanted = sys_account or load_operator(ws, operator).system_account
    if not wanted:
        return None
    for entry in entries:
        if wanted in (entry.name, entry.public_key):
            return entry
    raise ActionError(f"system account {wanted!r} is not in the store of operator {operator!r}")


def generate_config(
    ws: Workspace,
    kind: str,
    *,
    operator: str | None = None,
    sys_account: str | None = None,
    resolver_dir: str = "./jwt",
    allow_delete: bool = False,
) -> str:
    """Config text for kind 'mem', 'full' or 'cache' (--mem-resolver, --nats-resolver[-cache])."""
    op_name = ws.operator_name(operator)
    op_jwt = ws.store.read_operator(op_name).strip()
    entries = _accounts(ws, op_name)
    system = _system_account(ws, op_name, entries, sys_account)
    if kind == "mem":
        if not entries:
            raise ActionError(f"operator {op_name!r} has no accounts to preload")
        return mem_resolver_config(op_name, op_jwt, system.public_key if system else None, entries)
    if system is None:
        raise ActionError(
            "a nats resolver needs a system account: set one with "
            "'nscpy edit operator --system-account NAME' or pass --sys-account"
        )
    return nats_resolver_config(
        op_name,
        op_jwt,
        system.name,
        system.public_key,
        system.jwt,
        cache=kind == "cache",
        dir=resolver_dir,
        allow_delete=allow_delete,
    )
