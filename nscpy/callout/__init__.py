"""Auth callout for NATS: a service that decides who may connect, on nats-py (asyncio).

Write one function from an AuthRequest to Allow or Reject; `CalloutService` does the rest
(verify and open the server's request, issue and sign the user JWT, seal and send the
response). `nscpy callout serve` runs it as a command with `--authorizer` or a `--map` file.
"""

from __future__ import annotations

from nscpy.callout.messages import (
    CALLOUT_SUBJECT,
    Allow,
    AuthRequest,
    CalloutError,
    Decision,
    Reject,
)
from nscpy.callout.service import Authorizer, CalloutService, ServiceKeys

__all__ = [
    "CALLOUT_SUBJECT",
    "Allow",
    "AuthRequest",
    "Authorizer",
    "CalloutError",
    "CalloutService",
    "Decision",
    "Reject",
    "ServiceKeys",
]
