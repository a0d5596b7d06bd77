"""`nscpy revoke user`: shorthand for `nscpy revocations add-user`."""

from __future__ import annotations

from nscpy.commands.revocations import user_command

revoke_user = user_command(
    "user",
    "revoked",
    """Revoke a user's JWTs issued at or before --at (default now).

    \b
    Examples:
      nscpy revoke user -a ORDERS alice
      nscpy revoke user -a ORDERS -u UABC... --at 2026-01-01T00:00:00Z
    """,
    with_at=True,
)
