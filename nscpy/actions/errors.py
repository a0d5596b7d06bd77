"""Errors raised by the use cases: a refused operation the user can fix."""

from __future__ import annotations

from nscpy.errors import NscError, NscValueError


class ActionError(NscError):
    """An operation that cannot be done as asked (wrong state, missing key, conflicting flags)."""


class UsageProblem(ActionError, NscValueError):
    """Flags that contradict each other or name something invalid."""


class NoSigner(ActionError):
    """No seed is available for any key that may sign this claim."""
