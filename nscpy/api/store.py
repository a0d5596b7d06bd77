"""`Store`: an nsc store (config, data, keystore) opened for scripts and services.

The writes: operators, accounts, users, signing keys, exports and imports, revocations, and the
server side (config, push, pull). Each is one call into nscpy.actions, the functions the CLI's
commands call, inside a transaction (nscpy/api/base.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nscpy.actions.accounts import AccountSpec, add_account
from nscpy.actions.entities import Saved
from nscpy.actions.errors import ActionError
from nscpy.actions.operators import OperatorSpec, add_operator
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.users import UserSpec, add_user
from nscpy.api.account_settings import AccountSettings
from nscpy.api.base import TransactionError
from nscpy.api.migration import Migration
from nscpy.api.provisioning import Provisioning
from nscpy.api.shared_store import SharedStore

if TYPE_CHECKING:
    from nscpy.actions.account_server import HttpPushOutcome
    from nscpy.actions.activation import Activation
    from nscpy.actions.connection import Connection
    from nscpy.actions.delete import DeleteAccount, DeleteUsers
    from nscpy.actions.edit_account import AccountEdit
    from nscpy.actions.edit_limits import LimitsEdit
    from nscpy.actions.edit_operator import OperatorEdit
    from nscpy.actions.edit_signing_key import ScopeEdit
    from nscpy.actions.exports import ExportChange
    from nscpy.actions.imports import ImportSpec
    from nscpy.actions.push import PushOutcome, PushSpec
    from nscpy.actions.report import Report
    from nscpy.actions.revocations import Revocation
    from nscpy.api.issue import UserIssuer

__all__ = ["Store", "TransactionError"]


class Store(AccountSettings, Migration, Provisioning, SharedStore):
    """Operators, accounts, users and their keys in one nsc store."""

    # -- operators, accounts, users ------------------------------------------------------------
    def init(self, name: str) -> list[Saved]:
        """Operator NAME with SYS, account NAME and user NAME with creds (`nscpy init`)."""
        from nscpy.actions.init import init_store

        return self._write(lambda: init_store(self.workspace, name))

    def add_operator(
        self,
        name: str,
        *,
        system_account: bool = True,
        signing_key: bool = False,
        key: str | None = None,
        start: int = 0,
        expiry: int = 0,
    ) -> list[Saved]:
        """An operator (and by default its SYS account and sys user)."""
        spec = OperatorSpec(name, key, system_account, signing_key, start, expiry)
        return self._write(lambda: add_operator(self.workspace, spec))

    def edit_operator(self, operator: str, edit: OperatorEdit) -> Saved:
        """Apply an OperatorEdit and re-sign the operator JWT."""
        from nscpy.actions.edit_operator import edit_operator

        edit.name = self._operator(operator)
        return self._write(lambda: edit_operator(self.workspace, edit))

    def add_account(
        self,
        operator: str,
        name: str,
        *,
        signer: str | None = None,
        public_key: str | None = None,
        start: int = 0,
        expiry: int = 0,
        default_permissions: PermissionSpec | None = None,
    ) -> Saved:
        """A new account signed by the operator (identity or signing key)."""
        spec = AccountSpec(
            name,
            self._operator(operator),
            signer,
            public_key,
            start,
            expiry,
            default_permissions or PermissionSpec(),
        )
        return self._write(lambda: add_account(self.workspace, spec))[0]

    def edit_account(self, operator: str, account: str, edit: AccountEdit) -> Saved:
        """Apply an AccountEdit (limits, JetStream, signing keys, ...) and re-sign the account."""
        from nscpy.actions.edit_account import edit_account

        edit.operator, edit.account = operator, self._account(operator, account)
        return self._write(lambda: edit_account(self.workspace, edit))

    def delete_account(
        self, operator: str, account: str, spec: DeleteAccount | None = None
    ) -> Report:
        """Revoke and delete the account and its users (`nscpy delete account`)."""
        from nscpy.actions.delete import DeleteAccount, delete_account

        spec = spec or DeleteAccount(name=account)
        spec.operator, spec.name = operator, self._account(operator, account)
        return self._write(lambda: delete_account(self.workspace, spec))

    def add_user(
        self,
        operator: str,
        account: str,
        name: str,
        *,
        permissions: PermissionSpec | None = None,
        signer: str | None = None,
        public_key: str | None = None,
        bearer: bool = False,
        tags: Sequence[str] = (),
        source_networks: Sequence[str] = (),
        start: int = 0,
        expiry: int = 0,
    ) -> Saved:
        """A new user signed by the account (or the signing key or scope role `signer`)."""
        spec = UserSpec(
            name=name,
            account=self._account(operator, account),
            operator=operator,
            signer=signer,
            public_key=public_key,
            permissions=permissions or PermissionSpec(),
            bearer=bearer,
            tags=list(tags),
            source_networks=list(source_networks),
            start=start,
            expiry=expiry,
        )
        return self._write(lambda: add_user(self.workspace, spec))[0]

    def edit_user(
        self,
        operator: str,
        account: str,
        user: str,
        *,
        limits: LimitsEdit | None = None,
        signer: str | None = None,
        tags: Sequence[str] = (),
        rm_tags: Sequence[str] = (),
        start: int | None = None,
        expiry: int | None = None,
    ) -> Saved:
        """Change a user's permissions and limits, re-sign it and rewrite its creds."""
        from nscpy.actions.edit_limits import LimitsEdit
        from nscpy.actions.edit_user import UserEdit, edit_user

        spec = UserEdit(
            name=user,
            account=self._account(operator, account),
            operator=operator,
            signer=signer,
            limits=limits or LimitsEdit(),
            tags=list(tags),
            rm_tags=list(rm_tags),
            start=start,
            expiry=expiry,
        )
        return self._write(lambda: edit_user(self.workspace, spec))

    def delete_users(
        self, operator: str, account: str, users: Sequence[str], spec: DeleteUsers | None = None
    ) -> Report:
        """Delete users (spec.revoke revokes them first; rm_nkey / rm_creds remove files)."""
        from nscpy.actions.delete import DeleteUsers, delete_users

        spec = spec or DeleteUsers(names=[])
        spec.names = list(users)
        spec.operator, spec.account = operator, self._account(operator, account)
        return self._write(lambda: delete_users(self.workspace, spec))

    # -- signing keys, exports, imports, revocations ------------------------------------------
    def edit_signing_key(self, operator: str, account: str, edit: ScopeEdit) -> Saved:
        """Create (key='generate') or change a scoped account signing key."""
        from nscpy.actions.edit_signing_key import edit_signing_key

        edit.operator, edit.account = operator, self._account(operator, account)
        return self._write(lambda: edit_signing_key(self.workspace, edit))

    def add_export(
        self, operator: str, account: str, subject: str, change: ExportChange | None = None
    ) -> Saved:
        """A stream export (change.service=True for a service), public unless change.private."""
        from nscpy.actions.exports import ExportChange, add_export

        name = self._account(operator, account)
        change = change or ExportChange()
        return self._write(
            lambda: add_export(self.workspace, name, subject, change, operator=operator)
        )

    def delete_export(self, operator: str, account: str, subject: str) -> Saved:
        """Remove the export with this subject."""
        from nscpy.actions.exports import delete_export

        name = self._account(operator, account)
        return self._write(lambda: delete_export(self.workspace, name, subject, operator=operator))

    def add_import(self, operator: str, account: str, spec: ImportSpec) -> Saved:
        """A public import (spec.src_account + remote_subject) or a private one (spec.token)."""
        from nscpy.actions.imports import add_import

        name = self._account(operator, account)
        return self._write(lambda: add_import(self.workspace, name, spec, operator=operator))

    def delete_import(
        self, operator: str, account: str, subject: str, *, src_account: str | None = None
    ) -> Saved:
        """Remove the import whose subject (or local subject) is `subject`."""
        from nscpy.actions.imports import delete_import

        name = self._account(operator, account)
        return self._write(
            lambda: delete_import(
                self.workspace, name, subject, src_account=src_account, operator=operator
            )
        )

    def revoke_user(
        self, operator: str, account: str, user: str, *, at: int | None = None
    ) -> Revocation:
        """Revoke the user's JWTs issued at or before `at` (default now); user may be a U key
        or "*" (all users)."""
        from nscpy.actions.revocations import revoke_user

        name = self._account(operator, account)
        return self._write(lambda: revoke_user(self.workspace, name, user, at, operator=operator))

    def clear_user_revocation(self, operator: str, account: str, user: str) -> Revocation:
        """Remove the user's revocation entry."""
        from nscpy.actions.revocations import clear_user_revocation

        name = self._account(operator, account)
        return self._write(
            lambda: clear_user_revocation(self.workspace, name, user, operator=operator)
        )

    def user_revocations(self, operator: str, account: str) -> list[Revocation]:
        """The account's user revocations, with local user names where known."""
        from nscpy.actions.revocations import list_user_revocations

        name = self._account(operator, account)
        return list_user_revocations(self.workspace, name, operator=operator)

    def generate_activation(
        self,
        operator: str,
        account: str,
        subject: str,
        target: str,
        *,
        start: int = 0,
        expiry: int = 0,
        signer: str | None = None,
    ) -> Activation:
        """An activation token granting `target` (account name or A key) a private export;
        nothing is written (hand `.token` or `.decorated()` to the importer)."""
        from nscpy.actions.activation import generate_activation

        name = self._account(operator, account)
        return generate_activation(
            self.workspace,
            name,
            subject,
            target,
            start=start,
            expiry=expiry,
            operator=operator,
            signer=signer,
        )

    def revoke_activation(
        self, operator: str, account: str, subject: str, target: str, *, at: int | None = None
    ) -> Revocation:
        """Revoke the activations of `target` (an account or "*") for the export of subject."""
        from nscpy.actions.revocations import revoke_activation

        name = self._account(operator, account)
        return self._write(
            lambda: revoke_activation(self.workspace, name, subject, target, at, operator=operator)
        )

    def user_issuer(self, operator: str, account: str, signer: str | None = None) -> UserIssuer:
        """A UserIssuer for the account, from its stored keys: `signer` is a signing key, its
        seed, or a scope's role (a scoped issuer); by default the first key whose seed is here,
        chosen as `add user` chooses. The issuer then works without the store."""
        from nscpy.actions.entities import load_account, load_operator
        from nscpy.actions.signers import user_signer
        from nscpy.api.issue import UserIssuer

        name = self._account(operator, account)
        acct = load_account(self.workspace, operator, name)
        op = load_operator(self.workspace, operator)
        pair = user_signer(self.workspace.keystore, op, acct, signer)
        scope = acct.signing_keys.get_scope(pair.public_key)
        return UserIssuer(
            pair, account=acct.subject, scoped=scope is not None, role=scope.role if scope else ""
        )

    # -- server side ---------------------------------------------------------------------------
    def generate_config(
        self,
        operator: str,
        kind: str = "full",
        *,
        resolver_dir: str = "./jwt",
        allow_delete: bool = False,
    ) -> str:
        """Server config text: kind 'mem' (accounts preloaded), 'full' or 'cache' (resolver)."""
        from nscpy.actions.serverconfig import generate_config

        if kind not in ("mem", "full", "cache"):
            raise ActionError(f"kind must be 'mem', 'full' or 'cache', got {kind!r}")
        return generate_config(
            self.workspace,
            kind,
            operator=self._operator(operator),
            resolver_dir=resolver_dir,
            allow_delete=allow_delete,
        )

    def push(
        self,
        operator: str,
        accounts: Sequence[str] | None = None,
        *,
        url: str | None = None,
        connection: Connection | None = None,
        spec: PushSpec | None = None,
    ) -> list[PushOutcome | HttpPushOutcome]:
        """Push accounts (default: all) to the resolver at url (default: the operator's)."""
        from nscpy.actions.connection import Connection
        from nscpy.actions.push import PushSpec, push

        conn = connection or Connection()
        conn.operator = self._operator(operator)
        conn.url = url or conn.url
        outcomes: list[PushOutcome | HttpPushOutcome] = []
        names = list(accounts) if accounts is not None else None
        if names is None:
            one = spec or PushSpec()
            one.all_accounts = True
            outcomes.append(push(self.workspace, one, conn))
        for name in names or []:
            one = spec or PushSpec()
            one.account = self._account(operator, name)
            outcomes.append(push(self.workspace, one, conn))
        for outcome in outcomes:
            outcome.check()
        return outcomes

    def pull(
        self,
        operator: str,
        account: str | None = None,
        *,
        url: str | None = None,
        overwrite_newer: bool = False,
        connection: Connection | None = None,
    ) -> Report:
        """Fetch one account (or all, with account=None) from the resolver into the store."""
        from nscpy.actions.connection import Connection
        from nscpy.actions.pull import PullSpec, pull

        conn = connection or Connection()
        conn.operator = self._operator(operator)
        conn.url = url or conn.url
        spec = PullSpec(
            account=account, all_accounts=account is None, overwrite_newer=overwrite_newer
        )
        return self._write(lambda: pull(self.workspace, spec, conn))
