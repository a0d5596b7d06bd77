"""Config bodies for resolver tests, made with nscpy.serverconfig from a minted World."""

from __future__ import annotations

from pathlib import Path

from nscpy.serverconfig import AccountEntry, mem_resolver_config, nats_resolver_config
from tests.resolver.mint import World


def full_resolver(world: World, jwt_dir: Path, allow_delete: bool = True) -> str:
    """A full nats-resolver config storing JWTs in `jwt_dir`."""
    return nats_resolver_config(
        "OP",
        world.operator_jwt,
        "SYS",
        world.sys.pub,
        world.account_jwt(world.sys),
        cache=False,
        dir=str(jwt_dir),
        allow_delete=allow_delete,
    )


def mem_resolver(world: World) -> str:
    """A memory resolver config preloading SYS and every account of the world."""
    entries = [AccountEntry(a.name, a.pub, world.account_jwt(a)) for a in world.accounts.values()]
    entries.append(AccountEntry("SYS", world.sys.pub, world.account_jwt(world.sys)))
    return mem_resolver_config("OP", world.operator_jwt, world.sys.pub, entries)
