"""generate config: a nats-server configuration for the current operator's store."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy.actions.entities import load_account, load_operator, stored_account
from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.serverconfig import (
    AccountEntry,
    auth_callout_config,
    mem_resolver_config,
    nats_resolver_config,
)


@dataclass
class CalloutConfigSpec:
    """generate config --auth-callout: who runs the callout and where it may place clients."""

    issuer_account: str | None
    auth_password: str
    auth_user: str = "auth"
    callout_account: str = "AUTH"
    target_accounts: list[str] = field(default_factory=list)


def _callout_config(ws: Workspace, operator: str, spec: CalloutConfigSpec) -> str:
    # the issuer is a store account's key (its seed is what `callout serve --issuer-seed`
    # reads); its `edit authcallout --curve` xkey, when set, encrypts the requests
    account = ws.account_name(operator, spec.issuer_account)
    claims = load_account(ws, operator, account)
    return auth_callout_config(
        claims.subject,
        spec.callout_account,
        spec.auth_user,
        spec.auth_password,
        list(spec.target_accounts),
        claims.authorization.xkey,
    )


def _accounts(ws: Workspace, operator: str) -> list[AccountEntry]:
    entries = []
    for account in ws.store.list_accounts(operator):
        token = ws.store.read_account(operator, account).strip()
        entries.append(AccountEntry(account, stored_account(token, account).subject, token))
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
    callout: CalloutConfigSpec | None = None,
) -> str:
    """Config text for kind 'mem', 'full', 'cache' or 'callout' (config mode, no operator)."""
    op_name = ws.operator_name(operator)
    if kind == "callout":
        if callout is None:
            raise ActionError("--auth-callout needs the auth user's password (--auth-password)")
        return _callout_config(ws, op_name, callout)
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
