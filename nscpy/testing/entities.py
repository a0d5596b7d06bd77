"""What the fixtures hand to a test: an operator store, its accounts and users, over nscpy.api.

Every account change goes through `NatsOperator.changed`, which pushes the account to the
running server (if the test started one), so a test never pushes by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nscpy.api import (
    AccountEdit,
    ExportChange,
    ImportSpec,
    JetStreamEdit,
    PermissionSpec,
    Revocation,
    Store,
    UsageProblem,
)

__all__ = ["NatsAccount", "NatsOperator", "NatsUser"]

_PERMISSION_ARGS = {f.name for f in fields(PermissionSpec)}
_USER_ARGS = {"bearer", "tags", "source_networks", "start", "expiry", "signer"}
_ACCOUNT_ARGS = {f.name for f in fields(AccountEdit)} - {"account", "operator", "jetstream"}
# settings that take a list also take one string
_LIST_ARGS = {
    f.name for f in (*fields(AccountEdit), *fields(PermissionSpec)) if "list" in str(f.type)
}
_LIST_ARGS |= {"tags", "source_networks"}


def _as_list(name: str, value: Any) -> Any:
    return [value] if name in _LIST_ARGS and isinstance(value, str) else value


def _refuse_unknown(given: dict[str, Any], known: set[str], what: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise UsageProblem(
            f"unknown {what} {', '.join(unknown)}: use one of {', '.join(sorted(known))}"
        )


@dataclass(frozen=True)
class NatsUser:
    """A stored user with creds: connect with `creds_path`."""

    name: str
    account: NatsAccount
    public_key: str
    creds_path: Path
    seed: str = field(repr=False)

    @property
    def jwt(self) -> str:
        """The user's current JWT."""
        return self.account.operator.store.user_jwt(
            self.account.operator.name, self.account.name, self.name
        )


@dataclass(frozen=True)
class NatsAccount:
    """An account of the test operator; its edits are pushed to the running server."""

    operator: NatsOperator
    name: str
    public_key: str
    seed: str = field(repr=False)
    creds_path: Path | None = None  # accounts have no creds; kept for a uniform shape

    @property
    def jwt(self) -> str:
        """The account's current JWT."""
        return self.operator.store.account_jwt(self.operator.name, self.name)

    def edit(self, *, jetstream: bool | dict[str, int] | None = None, **claims: Any) -> None:
        """Change limits and settings (AccountEdit field names); jetstream=True switches
        JetStream on without limits, a dict sets limits (mem_storage, disk_storage, streams...)."""
        _refuse_unknown(claims, _ACCOUNT_ARGS, "account setting")
        edit = AccountEdit(**{k: _as_list(k, v) for k, v in claims.items()})
        if jetstream is True:
            edit.jetstream = JetStreamEdit(enable=0)
        elif jetstream is False:
            edit.jetstream = JetStreamEdit(disable=True)
        elif jetstream is not None:
            edit.jetstream = JetStreamEdit(values=dict(jetstream))
        self.operator.store.edit_account(self.operator.name, self.name, edit)
        self.operator.changed(self)

    def export_stream(self, subject: str, *, private: bool = False) -> None:
        """Offer a stream to other accounts."""
        self._export(subject, ExportChange(service=False, private=private))

    def export_service(self, subject: str, *, private: bool = False) -> None:
        """Offer a service (request/reply) to other accounts."""
        self._export(subject, ExportChange(service=True, private=private))

    def _export(self, subject: str, change: ExportChange) -> None:
        self.operator.store.add_export(self.operator.name, self.name, subject, change)
        self.operator.changed(self)

    def import_stream(
        self, exporter: NatsAccount, subject: str, local_subject: str | None = None
    ) -> None:
        """Import another account's public stream export."""
        self._import(exporter, subject, local_subject, service=False)

    def import_service(
        self, exporter: NatsAccount, subject: str, local_subject: str | None = None
    ) -> None:
        """Import another account's public service export."""
        self._import(exporter, subject, local_subject, service=True)

    def _import(
        self, exporter: NatsAccount, subject: str, local_subject: str | None, *, service: bool
    ) -> None:
        spec = ImportSpec(
            src_account=exporter.public_key,
            remote_subject=subject,
            local_subject=local_subject,
            service=service,
        )
        self.operator.store.add_import(self.operator.name, self.name, spec)
        self.operator.changed(self)

    def revoke(self, user: NatsUser | str, *, at: int | None = None) -> Revocation:
        """Revoke a user's JWTs issued at or before `at` (default now); pushed at once."""
        target = user.name if isinstance(user, NatsUser) else user
        revocation = self.operator.store.revoke_user(self.operator.name, self.name, target, at=at)
        self.operator.changed(self)
        return revocation


class NatsOperator:
    """A temporary store with an operator, its SYS account and sys user."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        claims = store.operator(name)
        self.public_key = claims.subject
        self.system_account = self._account_object("SYS")
        self.system_user = self._user_object(self.system_account, "sys")
        self.listeners: list[Callable[[NatsAccount], None]] = []

    @property
    def jwt(self) -> str:
        """The operator JWT."""
        return self.store.workspace.store.read_operator(self.name).strip()

    @property
    def seed(self) -> str:
        """The operator identity seed."""
        return self._seed(self.public_key)

    @property
    def home(self) -> Path:
        """The store directory (config, data and keystore in one, like `nscpy -H`)."""
        return self.store.paths.data_dir

    def changed(self, account: NatsAccount) -> None:
        """Tell the listeners (the running server's pusher) that an account JWT changed."""
        for listener in self.listeners:
            listener(account)

    def accounts(self) -> list[NatsAccount]:
        """Every account of the operator (SYS included)."""
        return [self._account_object(n) for n in self.store.accounts(self.name)]

    def account(
        self, name: str, *, jetstream: bool | dict[str, int] | None = None, **claims: Any
    ) -> NatsAccount:
        """A new account; claims as in NatsAccount.edit."""
        _refuse_unknown(claims, _ACCOUNT_ARGS, "account setting")
        self.store.add_account(self.name, name)
        account = self._account_object(name)
        if jetstream is not None or claims:
            account.edit(jetstream=jetstream, **claims)  # pushes
        else:
            self.changed(account)
        return account

    def user(self, account: NatsAccount | str, name: str, **permissions: Any) -> NatsUser:
        """A new user with creds; permissions: allow_pub, allow_sub, deny_pub, deny_sub,
        allow_pubsub, deny_pubsub (a subject or a list), response_max; plus bearer, tags,
        source_networks, start, expiry and signer (a signing key or scope role)."""
        acct = account if isinstance(account, NatsAccount) else self._account_object(account)
        _refuse_unknown(permissions, _PERMISSION_ARGS | _USER_ARGS, "user option")
        spec = PermissionSpec(
            **{k: _as_list(k, v) for k, v in permissions.items() if k in _PERMISSION_ARGS}
        )
        extra = {k: _as_list(k, v) for k, v in permissions.items() if k in _USER_ARGS}
        self.store.add_user(self.name, acct.name, name, permissions=spec, **extra)
        return self._user_object(acct, name)

    def _seed(self, public_key: str) -> str:
        seed = self.store.seed(public_key)
        if seed is None:
            raise UsageProblem(f"the store has no seed for {public_key}")
        return seed

    def _account_object(self, name: str) -> NatsAccount:
        key = self.store.account(self.name, name).subject
        return NatsAccount(self, name, key, self._seed(key))

    def _user_object(self, account: NatsAccount, name: str) -> NatsUser:
        key = self.store.user(self.name, account.name, name).subject
        path = self.store.creds_path(self.name, account.name, name)
        return NatsUser(name, account, key, path, self._seed(key))
