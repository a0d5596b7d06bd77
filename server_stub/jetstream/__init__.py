"""A JetStream subset for server_stub: streams encrypted at rest, pull consumers, nats-py's API.

The engine hosts no sockets: the server gives it a `MessageBus` and calls `start()` / `stop()`,
`enable_account()` / `disable_account()` as accounts come and go.
"""

from server_stub.jetstream.config import JetStreamConfig, JsLimits, limits_from_claims, parse_config
from server_stub.jetstream.engine import JetStream
from server_stub.jetstream.errors import (
    ApiError,
    JetStreamError,
    JsConfigError,
    StoreCorrupted,
    WrongKey,
)

__all__ = [
    "ApiError",
    "JetStream",
    "JetStreamConfig",
    "JetStreamError",
    "JsConfigError",
    "JsLimits",
    "StoreCorrupted",
    "WrongKey",
    "limits_from_claims",
    "parse_config",
]
