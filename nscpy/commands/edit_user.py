"""`nscpy edit user`, and the user-limit flags `edit signing-key` shares for a scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    NUMBER,
    list_option,
    one_name,
    optional_bool,
    optional_time,
    permission_options,
    permission_spec,
    rm_permission_options,
    spec_from,
    start_expiry_options,
    tag_options,
    take,
)
from nscpy.commands.reporting import json_option, report
from nscpy.values import InvalidValue, parse_time_range

F = TypeVar("F", bound=Callable[..., Any])


class TimeRangeType(click.ParamType[Any, Any]):
    """--time 'hh:mm:ss-hh:mm:ss' as a (start, end) pair; bad input exits 2."""

    name = "hh:mm:ss-hh:mm:ss"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_time_range(value)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


TIME_RANGE = TimeRangeType()


def user_limit_options(f: F) -> F:
    """Permissions plus every user limit flag (shared with scoped signing keys)."""
    f = permission_options(f)
    f = rm_permission_options(f)
    f = click.option("--subs", type=int, default=None, help="Max subscriptions (-1 unlimited).")(f)
    f = click.option("--data", type=NUMBER, default=None, help="Max data bytes (-1 unlimited).")(f)
    f = click.option("--payload", type=NUMBER, default=None, help="Max payload (-1 unlimited).")(f)
    f = optional_bool("--bearer", "Bearer token: no nonce signature (true/false).")(f)
    f = list_option("--conn-type", "conn_types", help="Allowed connection types (STANDARD...).")(f)
    f = list_option("--rm-conn-type", "rm_conn_types", help="Remove connection types.")(f)
    f = list_option("--source-network", "source_networks", help="Allowed client CIDRs.")(f)
    f = list_option("--rm-source-network", "rm_source_networks", help="Remove client CIDRs.")(f)
    f = click.option(
        "--time",
        "times",
        type=TIME_RANGE,
        multiple=True,
        callback=lambda _c, _p, v: list(v),
        help="Connect window hh:mm:ss-hh:mm:ss.",
    )(f)
    f = list_option("--rm-time", "rm_times", help="Remove the window starting at hh:mm:ss.")(f)
    return click.option("--locale", default=None, help="IANA time zone of the --time windows.")(f)


def limits_edit(flags: dict[str, Any]) -> Any:
    """The LimitsEdit of the user-limit flags, taken out of flags."""
    from nscpy.actions.edit_limits import LimitsEdit

    return take(LimitsEdit, flags, permissions=permission_spec(flags))


@click.command("user")
@click.argument("name_arg", required=False, metavar="[NAME]")
@click.option("-n", "--name", "name_opt", help="User (default: the account's only user).")
@click.option("-a", "--account", help="Account name or public key (default: current).")
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Account key or scoped role to sign with."
)
@user_limit_options
@tag_options
@start_expiry_options
@click.option(
    "--adopt",
    is_flag=True,
    help="Re-sign even if the user JWT was issued by another account (take it over).",
)
@json_option
@pass_app
def edit_user(
    app: AppContext,
    /,
    name_arg: str | None,
    name_opt: str | None,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Edit a user's permissions and limits; its creds are rewritten.

    \b
    Examples:
      nscpy edit user -a ORDERS alice --allow-pub 'orders.>' --rm 'old.>'
      nscpy edit user -a ORDERS alice --time 08:00:00-18:00:00 --locale Europe/Paris
    """
    from nscpy.actions.edit_user import UserEdit, edit_user

    name = one_name(name_opt, name_arg)
    ws = app.workspace
    now = ws.now()
    limits = limits_edit(flags)
    spec = spec_from(
        UserEdit,
        flags,
        name=name,
        limits=limits,
        start=optional_time(start, now),
        expiry=optional_time(expiry, now),
    )
    report(edit_user(ws, spec), as_json)
