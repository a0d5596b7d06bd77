"""CONNECT's JSON as nats-server reads it: type-checked client options, nulls dropped.

Go's json refuses a CONNECT whose known field has another type (nats-server then closes without
an -ERR), matches field names case-insensitively, and unmarshals `null` into a struct as "no
fields"; `client_options` does the same, and `json_object` reads the JSON argument of CONNECT
and INFO as Go would into a struct.
"""

from __future__ import annotations

import json
from typing import Any

from server_stub.errors import ProtocolError

# CONNECT fields with the JSON types of nats-server's ClientOpts (Go's json refuses a CONNECT
# whose known field has another type, and nats-server then closes without an -ERR). Go also
# matches field names case-insensitively, so `{"Verbose":false}` counts as `verbose`.
_BOOL_FIELDS = ("echo", "verbose", "pedantic", "tls_required", "new_account", "headers")
_STRING_FIELDS = (
    "nkey", "jwt", "sig", "auth_token", "user", "pass", "name", "lang", "version", "account",
    "remote_account", "proxy_sig",
)  # fmt: skip
_CONNECT_FIELDS: dict[str, str] = {
    **{name: "bool" for name in (*_BOOL_FIELDS, "no_responders")},
    **{name: "string" for name in _STRING_FIELDS},
    "protocol": "int",
    "import": "permission",
    "export": "permission",
}
_INT_RANGE = range(-(2**63), 2**63)


def _has_type(value: Any, kind: str) -> bool:
    if kind == "bool":
        return type(value) is bool
    if kind == "string":
        return type(value) is str
    if kind == "int":  # a JSON integer literal that fits Go's int (1.0 and 1e0 do not)
        return type(value) is int and value in _INT_RANGE
    # *SubjectPermission: {"allow": [...], "deny": [...]}, each a list of strings or null
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key.lower() in ("allow", "deny") and item is not None:
            if not (isinstance(item, list) and all(type(x) is str for x in item)):
                return False
    return True


def client_options(raw: Any) -> dict[str, Any]:
    """CONNECT's JSON as nats-server reads it into ClientOpts: known fields type-checked and
    named in lower case, nulls dropped (the default stays), other fields kept as they are."""
    if raw is None:  # Go unmarshals `null` into a struct as "no fields"
        return {}
    if not isinstance(raw, dict):
        raise ProtocolError("CONNECT must carry a JSON object", None)
    options: dict[str, Any] = {}
    for key, value in raw.items():
        name = key if key in _CONNECT_FIELDS else key.lower()
        kind = _CONNECT_FIELDS.get(name)
        if kind is None:
            options[key] = value
            continue
        if value is None:
            continue
        if not _has_type(value, kind):
            # the type only: the value may be a password or a seed
            got = type(value).__name__
            raise ProtocolError(f"CONNECT field {key!r} must be a {kind}, got a {got}", None)
        options[name] = value
    return options


def json_object(raw: bytes, op: str) -> Any:
    """The JSON argument of CONNECT or INFO: an object or null, as Go unmarshals into a struct.

    Python's decoder gives up at about 1,000 levels of nesting where Go's allows 10,000; such a
    CONNECT is refused here and accepted by nats-server (a deliberate, documented difference).
    """
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"{op} is not valid JSON: {str(exc)[:80]}", None) from None
    if value is not None and not isinstance(value, dict):
        raise ProtocolError(f"{op} must carry a JSON object", None)
    return value
