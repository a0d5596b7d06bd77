"""JetStream for server_stub: streams encrypted at rest, pull and push consumers (flow control,
heartbeats, ordered consumers), KV and Object Store as the clients build them, answered with
nats-server 2.15's JSON, codes and texts; what it does not implement it refuses.

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
