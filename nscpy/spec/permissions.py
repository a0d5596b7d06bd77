"""The permission fields a spec user (or user set) and the add/edit flags share, declared once.

A module of its own so that the flags (nscpy.actions.permspec) extend it without loading the
spec model's other classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Perms"]


@dataclass
class Perms:
    """The permission flags: subjects to allow/deny and the response permission.

    Declared once: nscpy.actions.permspec.PermissionSpec (the add/edit flags) extends this
    with the removals only edits ask for. response_max is the spec's allow_pub_response.
    """

    allow_pub: list[str] = field(default_factory=list)
    allow_sub: list[str] = field(default_factory=list)
    deny_pub: list[str] = field(default_factory=list)
    deny_sub: list[str] = field(default_factory=list)
    allow_pubsub: list[str] = field(default_factory=list)
    deny_pubsub: list[str] = field(default_factory=list)
    response_max: int | None = None
    response_ttl_ns: int | None = None

    def is_empty(self) -> bool:
        """True when no permission is asked for."""
        return not (
            self.allow_pub
            or self.allow_sub
            or self.deny_pub
            or self.deny_sub
            or self.allow_pubsub
            or self.deny_pubsub
            or self.response_max is not None
            or self.response_ttl_ns is not None
        )
