"""A script using nscpy.api: a store, an account with a service export, users, a transaction,
and stateless issuance. Run: python docs/examples/api_usage.py DIR (DIR: a new store)."""

from __future__ import annotations

import sys
import time

from nscpy.api import (
    ExportChange,
    LimitsEdit,
    NscError,
    PermissionSpec,
    ScopeEdit,
    Store,
    UserIssuer,
)


def main(home: str) -> int:
    store = Store.open(home=home)
    with store.transaction():  # all of it, or none of it
        store.add_operator("acme")  # with SYS and sys by default
        store.add_account("acme", "orders")
        store.add_export("acme", "orders", "orders.lookup.>", ExportChange(service=True))
        clerk = store.add_user(
            "acme", "orders", "clerk", permissions=PermissionSpec(allow_pub=["orders.>"])
        )
    store.edit_user("acme", "orders", "clerk", limits=LimitsEdit(subs=100))
    print(f"clerk {clerk.public_key}, creds at {clerk.creds_path}")

    try:
        store.add_user("acme", "orders", "clerk")
    except NscError as exc:  # our own errors: one line, no seed in it
        print(f"refused: {exc}")

    # a scoped signing key for a service that mints short-lived users on demand
    store.edit_signing_key("acme", "orders", ScopeEdit(key="generate", role="minter"))
    issuer: UserIssuer = store.user_issuer("acme", "orders", signer="minter")
    user = issuer.issue("edge-17", expires=int(time.time()) + 3600)
    print(f"issued {user.public_key}: {len(user.creds)} bytes of creds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
