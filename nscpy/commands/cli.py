"""The nscpy command group (placeholder until the CLI lands)."""

from __future__ import annotations

import click

from nscpy import __version__


@click.group()
@click.version_option(__version__, prog_name="nscpy")
def cli() -> None:
    """nscpy: NATS decentralized security (operators, accounts, users, NKeys, JWTs)."""


def main() -> None:
    """Console-script entry point."""
    cli()
