"""`Store`: an nsc store (config, data, keystore) opened for scripts and services.

Every method names its operator and account explicitly; the API never reads or writes the CLI's
"current" selection in nsc.json. Each write runs as a transaction (see `transaction`), so a
failed call changes nothing, and parallel callers, threads or processes, serialise on the store
lock. The work itself is done by nscpy.actions, the functions the CLI commands call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from nscpy.actions.accounts import AccountSpec, add_account
from nscpy.actions.entities import Saved, load_account, load_operator, load_user
from nscpy.actions.errors import ActionError
from nscpy.actions.operators import OperatorSpec, add_operator
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.users import UserSpec, add_user, creds_text
from nscpy.actions.workspace import Workspace, system_clock
from nscpy.errors import NscError
from nscpy.store import journal
from nscpy.store.atomic import FileLock
from nscpy.store.layout import StorePaths

if TYPE_CHECKING:
    from nscpy.actions.account_server import HttpPushOutcome
    from nscpy.actions.delete import DeleteAccount, DeleteUsers
    from nscpy.actions.edit_account import AccountEdit
    from nscpy.actions.edit_limits import LimitsEdit
    from nscpy.actions.edit_operator import OperatorEdit
    from nscpy.actions.edit_signing_key import ScopeEdit
    from nscpy.actions.exports import ExportChange
    from nscpy.actions.imports import ImportSpec
    from nscpy.actions.push import Connection, PushOutcome, PushSpec
    from nscpy.actions.report import Report
    from nscpy.actions.revocations import Revocation
    from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims

__all__ = ["Store", "TransactionError"]

T = TypeVar("T")
LOCK_NAME = ".nscpy.lock"


class TransactionError(NscError):
    """A failed transaction could not put every file back (the message lists which)."""


class _ApiWorkspace(Workspace):
    """A Workspace whose selection stays in memory: the API never rewrites nsc.json."""

    def select(self, operator: str | None = None, account: str | None = None) -> None:
        """Remember the selection for this object only."""
        if operator is not None:
            self.context.operator = operator
        if account is not None:
            self.context.account = account


class Store:
    """Operators, accounts, users and their keys in one nsc store."""

    def __init__(self, workspace: Workspace, *, lock_timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.lock_timeout = lock_timeout

    @classmethod
    def open(
        cls,
        home: str | Path | None = None,
        *,
        config_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        keystore_dir: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        keyring: bool | None = None,
        clock: Callable[[], int] = system_clock,
        lock_timeout: float = 30.0,
    ) -> Store:
        """nsc's default locations; home=DIR keeps all three in DIR (the CLI's -H); or the
        explicit config/data/keystore directories (the CLI's --config-dir/--data-dir/...)."""
        ws = _ApiWorkspace.open(
            env=env,
            all_dirs=None if home is None else str(home),
            config_dir=None if config_dir is None else str(config_dir),
            data_dir=None if data_dir is None else str(data_dir),
            keystore_dir=None if keystore_dir is None else str(keystore_dir),
            keyring=keyring,
            clock=clock,
        )
        store = cls(ws, lock_timeout=lock_timeout)
        store.recover()
        return store

    @property
    def paths(self) -> StorePaths:
        """The resolved config, data and keystore directories."""
        return self.workspace.paths

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """All-or-nothing: every write in the block is undone if the block raises.

        Holds the store lock (and every operator's lock) for the whole block, so other
        transactions, API calls and the CLI's account edits in other threads or processes wait.
        Nested blocks join the outer one.
        """
        with self._locked():
            if journal.active() is not None:
                yield self
                return
            self._recover()
            log = journal.Journal(self.paths.data_dir / journal.LOG_NAME)
            try:
                with journal.activated(log):
                    yield self
            except BaseException as exc:
                failures = log.rollback()
                if failures:
                    raise TransactionError(
                        "the transaction failed and some files could not be restored "
                        "(the next transaction retries): " + "; ".join(failures)
                    ) from exc
                raise
            log.close()

    def recover(self) -> bool:
        """Roll back what a transaction killed half-way left (each transaction does this first);
        True if there was something to roll back."""
        if not (self.paths.data_dir / journal.LOG_NAME).exists():
            return False
        with self._locked():
            return self._recover()

    def _recover(self) -> bool:
        failures = journal.recover(self.paths.data_dir / journal.LOG_NAME)
        if failures:
            raise TransactionError(
                "a transaction interrupted earlier cannot be rolled back: " + "; ".join(failures)
            )
        return failures is not None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ws = self.workspace
        with contextlib.ExitStack() as stack:
            stack.enter_context(FileLock(ws.paths.data_dir / LOCK_NAME, timeout=self.lock_timeout))
            for operator in ws.store.list_operators():
                stack.enter_context(ws.store.lock(operator))
            yield

    def _write(self, action: Callable[[], T]) -> T:
        with self.transaction():
            return action()

    # -- reading -------------------------------------------------------------------------------
    def operators(self) -> list[str]:
        """Operator names, sorted."""
        return self.workspace.store.list_operators()

    def accounts(self, operator: str) -> list[str]:
        """Account names of the operator, sorted."""
        self.workspace.store.require_operator(operator)
        return self.workspace.store.list_accounts(operator)

    def users(self, operator: str, account: str) -> list[str]:
        """User names of the account, sorted."""
        return self.workspace.store.list_users(operator, self._account(operator, account))

    def operator(self, operator: str) -> OperatorClaims:
        """The operator's decoded, signature-checked claims."""
        return load_operator(self.workspace, self._operator(operator))

    def account(self, operator: str, account: str) -> AccountClaims:
        """The account's decoded, signature-checked claims (account: name or public key)."""
        return load_account(self.workspace, operator, self._account(operator, account))

    def user(self, operator: str, account: str, user: str) -> UserClaims:
        """The user's decoded, signature-checked claims."""
        return load_user(self.workspace, operator, self._account(operator, account), user)

    def account_jwt(self, operator: str, account: str) -> str:
        """The stored account JWT text."""
        name = self._account(operator, account)
        return self.workspace.store.read_account(operator, name).strip()

    def user_jwt(self, operator: str, account: str, user: str) -> str:
        """The stored user JWT text."""
        name = self._account(operator, account)
        return self.workspace.store.read_user(operator, name, user).strip()

    def creds(self, operator: str, account: str, user: str) -> str:
        """The creds text of a stored user (its seed must be in the keystore)."""
        return creds_text(self.workspace, self._account(operator, account), user, operator)

    def creds_path(self, operator: str, account: str, user: str) -> Path:
        """Where the user's creds file is (or would be) written."""
        return self.paths.creds_path(operator, self._account(operator, account), user)

    def seed(self, public_key: str) -> str | None:
        """The stored seed for a public key, or None."""
        return self.workspace.keystore.get(public_key)

    def _operator(self, name: str) -> str:
        if not name:
            raise ActionError("name the operator: the API has no current operator")
        self.workspace.store.require_operator(name)
        return name

    def _account(self, operator: str, account: str) -> str:
        if not account:
            raise ActionError("name the account: the API has no current account")
        return self.workspace.account_name(self._operator(operator), account)

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
        from nscpy.actions.push import Connection, PushSpec, push

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
        from nscpy.actions.pull import PullSpec, pull
        from nscpy.actions.push import Connection

        conn = connection or Connection()
        conn.operator = self._operator(operator)
        conn.url = url or conn.url
        spec = PullSpec(
            account=account, all_accounts=account is None, overwrite_newer=overwrite_newer
        )
        return self._write(lambda: pull(self.workspace, spec, conn))
