"""The Workspace: resolved store paths, data store, keystore, current selection and the clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nscpy.actions.errors import ActionError
from nscpy.actions.verified import find_by_key, verified_accounts
from nscpy.redact import shown
from nscpy.store.context import Context, cwd_context, load_context, sane_default, save_context
from nscpy.store.jwtstore import DataStore
from nscpy.store.keystore import KeyStore
from nscpy.store.layout import StorePaths, resolve_paths
from nscpy.store.names import match_name, near_misses


def system_clock() -> int:
    """Unix seconds now."""
    return int(time.time())


class Workspace:
    """Everything a use case touches; built once per CLI run (or per script)."""

    # a plain class: importing dataclasses costs ~15 ms, and read commands have a 100 ms budget
    def __init__(
        self,
        paths: StorePaths,
        store: DataStore,
        keystore: KeyStore,
        context: Context,
        clock: Callable[[], int] = system_clock,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.store = store
        self.keystore = keystore
        self.context = context
        self.clock = clock
        self.env: Mapping[str, str] = {} if env is None else env

    @classmethod
    def open(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
        cwd: Path | None = None,
        config_dir: str | None = None,
        data_dir: str | None = None,
        keystore_dir: str | None = None,
        all_dirs: str | None = None,
        keyring: bool | None = None,
        clock: Callable[[], int] = system_clock,
        store: str | None = None,
        store_options: Mapping[str, Any] | None = None,
    ) -> Workspace:
        """Resolve directories as nsc does (flags > env > nsc.json > cwd > XDG defaults).

        With `store` (or NSCPY_STORE) a nats:// URL, the data store is that KV bucket
        (nscpy.store.kvstore); the keystore stays local. store_options: creds, ca_file,
        cert_file, key_file, tls_first (see nscpy.store.kvstore.open_kv_store)."""
        env = dict(os.environ if env is None else env)
        home = home or Path(env.get("HOME") or Path.home())
        cwd = cwd or Path.cwd()
        paths = resolve_paths(
            env,
            home,
            cwd=cwd,
            config_dir=config_dir,
            data_dir=data_dir,
            keystore_dir=keystore_dir,
            all_dirs=all_dirs,
            exists=Path.exists,
        )
        context = load_context(paths)
        from_cwd = cwd_context(cwd)
        if from_cwd is not None and not (data_dir or all_dirs):
            context = Context(
                store_root=from_cwd.store_root,
                operator=from_cwd.operator or context.operator,
                account=from_cwd.account or context.account,
                extra=context.extra,
            )
        if context.store_root and not (data_dir or all_dirs):
            paths = paths.with_store_root(context.store_root)
        store_url = store or env.get("NSCPY_STORE") or None
        if store_url:
            from nscpy.store.kvstore import open_kv_store

            data_store: DataStore = open_kv_store(paths, store_url, env, store_options or {})
        else:
            data_store = DataStore(paths)
        keystore = KeyStore.open(paths, env, keyring=keyring)
        return cls(paths, data_store, keystore, context, clock, env)

    def now(self) -> int:
        """Unix seconds, from the injected clock."""
        return self.clock()

    # -- current selection ---------------------------------------------------------------------
    def operator_name(self, name: str | None = None) -> str:
        """The operator to work on: the one named, else the current one, else the only one."""
        operators = self.store.list_operators()
        if name:
            found = match_name(name, operators, "operator")
            if found is None:
                # require_operator says where it looked (the store root)
                self.store.require_operator(name)
                raise ActionError(f"operator {name!r} does not exist (names are matched exactly)")
            return found
        chosen = sane_default(self.context.operator, operators)
        if not chosen:
            if not operators:
                raise ActionError(
                    f"no operator in {str(self.paths.data_dir)!r}: create one with "
                    "'nscpy add operator -n NAME' or 'nscpy init'"
                )
            raise ActionError(
                "several operators exist; choose one with 'nscpy select operator NAME' "
                f"({', '.join(operators)})"
            )
        return chosen

    def account_name(self, operator: str, name: str | None = None) -> str:
        """The account: the one named (name or public key), else the current, else the only one."""
        accounts = self.store.list_accounts(operator)
        if name:
            found = self.lookup_account(operator, name, accounts)
            if found:
                return found
            raise missing("account", name, accounts, f"under operator {operator!r}")
        current = self.context.account if self.context.operator in ("", operator) else ""
        chosen = sane_default(current, accounts)
        if not chosen:
            if not accounts:
                raise ActionError(
                    f"operator {operator!r} has no accounts: create one with 'nscpy add account'"
                )
            raise ActionError(
                "several accounts exist; pass -a ACCOUNT or 'nscpy select account NAME' "
                f"({', '.join(accounts)})"
            )
        return chosen

    def lookup_account(
        self, operator: str, value: str, accounts: list[str] | None = None
    ) -> str | None:
        """The account `value` names exactly (see store.names.match_name), or whose public key
        it is; None if none. Never case-folded; several candidates are an error."""
        if accounts is None:
            accounts = self.store.list_accounts(operator)
        found = match_name(value, accounts, "account")
        return found if found is not None else self.find_account_by_key(operator, value)

    def find_account_by_key(self, operator: str, public_key: str) -> str | None:
        """The name of the account whose subject is public_key, if any (two is an error)."""
        if not public_key.startswith("A"):
            return None
        found = find_by_key(
            verified_accounts(self.store, operator),
            public_key,
            f"accounts of operator {operator!r}",
        )
        return found.name if found is not None else None

    def select(self, operator: str | None = None, account: str | None = None) -> None:
        """Persist the current operator/account in nsc.json (no-op under NSC_CWD_ONLY)."""
        if operator is not None:
            if operator != self.context.operator:
                self.context.account = ""
            self.context.operator = operator
        if account is not None:
            self.context.account = account
        if not self.context.store_root:
            self.context.store_root = str(self.paths.data_dir)
        save_context(self.paths, self.context)


def set_environment(
    ws: Workspace, store_root: str | None, operator: str | None, account: str | None
) -> Workspace:
    """nsc's `env -s/-o/-a`: keep a new stores directory, operator or account in nsc.json.

    A new stores directory is opened first, so the operator and account are checked in it.
    Returns the workspace the next command will see.
    """
    if store_root is None and operator is None and account is None:
        return ws
    if store_root is not None:
        root = Path(store_root).expanduser().resolve()
        if not root.is_dir():
            raise ActionError(f"stores directory {str(root)!r} does not exist")
        ws.context.store_root = str(root)
        ws = Workspace(
            ws.paths.with_store_root(root),
            DataStore(ws.paths.with_store_root(root)),
            ws.keystore,
            ws.context,
            ws.clock,
            ws.env,
        )
    op = ws.operator_name(operator) if operator is not None or account is not None else None
    if op is not None:
        ws.select(operator=op, account=ws.account_name(op, account) if account else None)
    else:
        save_context(ws.paths, ws.context)
    return ws


def missing(kind: str, value: str, names: Sequence[str], where: str) -> ActionError:
    """'<kind> <value> does not exist <where>', with a hint when only case or form differs."""
    similar = near_misses(value, names)
    hint = ""
    if similar:
        listed = ", ".join(repr(n) for n in similar)
        hint = f" (names are matched exactly; stored: {listed})"
    return ActionError(f"{kind} {shown(value)} does not exist {where}{hint}")
