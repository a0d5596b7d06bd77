"""`nscpy generate nkey`: make a new NKey and print it."""

from __future__ import annotations

import click

from nscpy import keys
from nscpy.commands.output import emit_json

_ROLE_FLAGS = ("operator", "account", "user", "server", "cluster", "curve")


@click.command("nkey")
@click.option("-o", "--operator", "role", flag_value="operator", help="An operator key (O).")
@click.option("-a", "--account", "role", flag_value="account", help="An account key (A).")
@click.option("-u", "--user", "role", flag_value="user", help="A user key (U).")
@click.option("--server", "role", flag_value="server", help="A server key (N).")
@click.option("--cluster", "role", flag_value="cluster", help="A cluster key (C).")
@click.option("-x", "--curve", "role", flag_value="curve", help="A curve (x25519) key (X).")
@click.option("--json", "as_json", is_flag=True, help="Print {role, public_key, seed} as JSON.")
def generate_nkey(role: str | None, as_json: bool) -> None:
    """Generate a new NKey; prints the seed (a secret) and then the public key on stdout."""
    if role is None:
        raise click.UsageError(
            "choose a role: --operator, --account, --user, --server, --cluster or --curve"
        )
    pair = keys.create(keys.Prefix.from_name(role))
    if as_json:
        emit_json({"role": role, "public_key": pair.public_key, "seed": pair.seed})
    else:
        click.echo(pair.seed)
        click.echo(pair.public_key)
