"""The core of `Store`: opening a store, transactions (one lock, all-or-nothing), reading.

Every method names its operator and account explicitly; the API never reads or writes the CLI's
"current" selection in nsc.json. Each write runs as a transaction (see `transaction`), so a
failed call changes nothing, and parallel callers, threads or processes, serialise on the store
lock. The work itself is done by nscpy.actions, the functions the CLI commands call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.errors import ActionError
from nscpy.actions.users import creds_text
from nscpy.actions.workspace import Workspace, system_clock
from nscpy.errors import NscError
from nscpy.store import journal
from nscpy.store.atomic import FileLock
from nscpy.store.layout import StorePaths

if TYPE_CHECKING:
    from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims

__all__ = ["LOCK_NAME", "StoreBase", "TransactionError"]

T = TypeVar("T")
S = TypeVar("S", bound="StoreBase")
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


class StoreBase:
    """Opening, locking, transactions and reading; `Store` adds the writes."""

    def __init__(self, workspace: Workspace, *, lock_timeout: float = 30.0) -> None:
        self.workspace = workspace
        self.lock_timeout = lock_timeout

    @classmethod
    def open(
        cls: type[S],
        home: str | Path | None = None,
        *,
        config_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        keystore_dir: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        keyring: bool | None = None,
        clock: Callable[[], int] = system_clock,
        lock_timeout: float = 30.0,
        store: str | None = None,
        store_options: Mapping[str, Any] | None = None,
    ) -> S:
        """nsc's default locations; home=DIR keeps all three in DIR (the CLI's -H); or the
        explicit config/data/keystore directories (the CLI's --config-dir/--data-dir/...).
        store='nats://HOST:PORT?bucket=NAME' (or NSCPY_STORE) keeps the data store in a
        JetStream KV bucket, as the CLI's --store (store_options: creds, ca_file, cert_file,
        key_file, tls_first, timeout, retry_for, editor)."""
        ws = _ApiWorkspace.open(
            env=env,
            all_dirs=None if home is None else str(home),
            config_dir=None if config_dir is None else str(config_dir),
            data_dir=None if data_dir is None else str(data_dir),
            keystore_dir=None if keystore_dir is None else str(keystore_dir),
            keyring=keyring,
            clock=clock,
            store=store,
            store_options=store_options,
        )
        opened = cls(ws, lock_timeout=lock_timeout)
        opened.recover()
        return opened

    @property
    def paths(self) -> StorePaths:
        """The resolved config, data and keystore directories."""
        return self.workspace.paths

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self: S) -> Iterator[S]:
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
