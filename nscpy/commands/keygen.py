"""`nscpy generate nkey`: make a new NKey, print it, and (with --store) keep its seed."""

from __future__ import annotations

import click

from nscpy import keys
from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json

_ROLE_FLAGS = ("operator", "account", "user", "server", "cluster", "curve")
# --store keeps the seed in the keystore: only the roles nsc's keystore holds
_STORABLE = ("operator", "account", "user", "curve")


@click.command("nkey")
@click.option("-o", "--operator", "role", flag_value="operator", help="An operator key (O).")
@click.option("-a", "--account", "role", flag_value="account", help="An account key (A).")
@click.option("-u", "--user", "role", flag_value="user", help="A user key (U).")
@click.option("--server", "role", flag_value="server", help="A server key (N).")
@click.option("--cluster", "role", flag_value="cluster", help="A cluster key (C).")
@click.option("-x", "--curve", "role", flag_value="curve", help="A curve (x25519) key (X).")
@click.option(
    "-S", "--store", is_flag=True, help="Also keep the seed in the keystore (as nsc does)."
)
@click.option("--json", "as_json", is_flag=True, help="Print {role, public_key, seed} as JSON.")
@pass_app
def generate_nkey(app: AppContext, /, role: str | None, store: bool, as_json: bool) -> None:
    """Generate a new NKey; prints the seed (a secret) and then the public key on stdout.

    \b
    Example:
      nscpy generate nkey --account --store   # then: nscpy edit account --sk <the public key>
    """
    if role is None:
        raise click.UsageError(
            "choose a role: --operator, --account, --user, --server, --cluster or --curve"
        )
    if store and role not in _STORABLE:
        raise click.UsageError(f"--store keeps operator, account, user or curve keys, not {role}")
    pair = keys.create(keys.Prefix.from_name(role))
    where = _store(app, pair.seed) if store else None
    if as_json:
        found = {"role": role, "public_key": pair.public_key, "seed": pair.seed}
        emit_json({**found, "stored": where} if store else found)
        return
    click.echo(pair.seed)
    click.echo(pair.public_key)
    if where is not None:
        # nsc's third line: "<role> key stored <path>"
        click.echo(f"{role} key stored {where}")


def _store(app: AppContext, seed: str) -> str:
    """Keep the seed; say where (a path, or the keyring)."""
    from nscpy.actions.keyfiles import store_seed

    return store_seed(app.workspace, seed)
