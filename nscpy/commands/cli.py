"""The `nscpy` command tree and its single error-translation point.

Exit codes: 0 success, 1 failure (any NscError or a refused operation), 2 bad usage (Click's own).
Errors are one line on stderr; a traceback is shown only with NSCPY_DEBUG=1.
"""

from __future__ import annotations

import os
import sys

import click

from nscpy import __version__
from nscpy.commands.lazy import LazyGroup
from nscpy.errors import NscError


@click.group(
    cls=LazyGroup,
    lazy={"nkey": "nscpy.commands.keygen:generate_nkey"},
    name="generate",
)
def generate() -> None:
    """Generate keys, creds and server configuration."""


@click.group(cls=LazyGroup, lazy={"jwt": "nscpy.commands.describe_jwt:describe_jwt"})
def describe() -> None:
    """Describe operators, accounts, users and JWTs."""


@click.group(cls=LazyGroup)
@click.version_option(__version__, "--version", "-v", prog_name="nscpy")
def cli() -> None:
    """nscpy: NATS decentralized security (operators, accounts, users, NKeys, JWTs)."""


cli.add_command(generate)
cli.add_command(describe)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping our errors to one line and exit 1."""
    try:
        cli.main(args=argv, prog_name="nscpy", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("nscpy: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except NscError as exc:
        if os.environ.get("NSCPY_DEBUG"):
            raise
        click.echo(f"nscpy: error: {exc}", err=True)
        sys.exit(1)
    except (OSError, ValueError) as exc:
        if os.environ.get("NSCPY_DEBUG"):
            raise
        click.echo(f"nscpy: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
