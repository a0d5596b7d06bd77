"""`$JS.API` requests: which handler answers which subject, and the envelope around it.

Requests are answered with nats-server's JSON shapes (`type`, then the body or an `error`
object with code / err_code / description). The handlers live by API area in `stream_api`
and `consumer_api`; this module checks the body as strictly as nats-server decodes it,
counts the request on the account and wraps the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server_stub.jetstream import consumer_api, errors, stream_api
from server_stub.jetstream.account import JsAccount
from server_stub.jetstream.apiwire import (
    BODY_KEYS,
    EMPTY_BODY,
    ERROR_EXTRAS,
    empty_request,
    no_priority_groups,
    no_snapshots,
    not_clustered,
)
from server_stub.jetstream.wire import loads_request

_TYPE = "io.nats.jetstream.api.v1."


def handle(account: JsAccount, subject: str, payload: bytes, now: int) -> dict[str, Any] | None:
    """Answer one `$JS.API.` request; None when nats-server would not answer either."""
    tokens = subject.split(".")[2:]
    route = _route(tokens)
    if route is None:
        return None
    kind, handler, args = route
    try:
        if kind in EMPTY_BODY and not empty_request(payload):
            raise errors.ApiError(400, 10038, "expected an empty request payload")
        body = loads_request(payload)
        known = BODY_KEYS.get(kind)
        unknown = sorted(set(body) - known) if known is not None else []
        if unknown:  # nats-server decodes request bodies strictly
            raise errors.unknown_field(unknown[0])
        return {"type": _TYPE + kind} | handler(account, body, now, *args)
    except errors.ApiError as exc:
        account.api_errors += 1
        response: dict[str, Any] = {"type": _TYPE + kind, "error": exc.to_json()}
        return response | ERROR_EXTRAS.get(kind, {})
    finally:  # counted once answered: account info does not include itself
        account.api_total += 1


def account_info(account: JsAccount, body: dict[str, Any], now: int) -> dict[str, Any]:
    """INFO: the account's usage, limits and API counters."""
    return account.info_json()


_Handler = Callable[..., dict[str, Any]]

# (tokens after $JS.API, response kind, handler, number of name tokens taken as arguments)
_ROUTES: list[tuple[tuple[str, ...], str, _Handler, int, int]] = [
    (("INFO",), "account_info_response", account_info, 0, 0),
    (("STREAM", "CREATE"), "stream_create_response", stream_api.stream_create, 1, 1),
    (("STREAM", "UPDATE"), "stream_update_response", stream_api.stream_update, 1, 1),
    (("STREAM", "INFO"), "stream_info_response", stream_api.stream_info, 1, 1),
    (("STREAM", "DELETE"), "stream_delete_response", stream_api.stream_delete, 1, 1),
    (("STREAM", "NAMES"), "stream_names_response", stream_api.stream_names, 0, 0),
    (("STREAM", "LIST"), "stream_list_response", stream_api.stream_list, 0, 0),
    (("STREAM", "PURGE"), "stream_purge_response", stream_api.stream_purge, 1, 1),
    (("STREAM", "MSG", "GET"), "stream_msg_get_response", stream_api.msg_get, 1, 1),
    (("STREAM", "MSG", "DELETE"), "stream_msg_delete_response", stream_api.msg_delete, 1, 1),
    (
        ("CONSUMER", "DURABLE", "CREATE"),
        "consumer_create_response",
        consumer_api.consumer_create,
        2,
        2,
    ),
    (("CONSUMER", "CREATE"), "consumer_create_response", consumer_api.consumer_create, 1, 99),
    (("CONSUMER", "INFO"), "consumer_info_response", consumer_api.consumer_info, 2, 2),
    (("CONSUMER", "DELETE"), "consumer_delete_response", consumer_api.consumer_delete, 2, 2),
    (("CONSUMER", "PAUSE"), "consumer_pause_response", consumer_api.consumer_pause, 2, 2),
    (("CONSUMER", "UNPIN"), "consumer_unpin_response", no_priority_groups, 2, 2),
    (("STREAM", "SNAPSHOT"), "stream_snapshot_response", no_snapshots, 1, 1),
    (("STREAM", "RESTORE"), "stream_restore_response", no_snapshots, 1, 1),
    (
        ("STREAM", "LEADER", "STEPDOWN"),
        "stream_leader_stepdown_response",
        not_clustered,
        1,
        1,
    ),
    (("STREAM", "PEER", "REMOVE"), "stream_remove_peer_response", not_clustered, 1, 1),
    (
        ("CONSUMER", "LEADER", "STEPDOWN"),
        "consumer_leader_stepdown_response",
        not_clustered,
        2,
        2,
    ),
    (("CONSUMER", "NAMES"), "consumer_names_response", consumer_api.consumer_names, 1, 1),
    (("CONSUMER", "LIST"), "consumer_list_response", consumer_api.consumer_list, 1, 1),
]

# What the engine subscribes in an enabled account: MSG.NEXT is left to per-consumer
# subscriptions so that a pull on a missing consumer gets "no responders", as on nats-server.
API_SUBJECTS = (
    "$JS.API.INFO",
    "$JS.API.STREAM.>",
    "$JS.API.CONSUMER.CREATE.>",
    "$JS.API.CONSUMER.DURABLE.>",
    "$JS.API.CONSUMER.INFO.>",
    "$JS.API.CONSUMER.DELETE.>",
    "$JS.API.CONSUMER.PAUSE.>",
    "$JS.API.CONSUMER.UNPIN.>",
    "$JS.API.CONSUMER.LEADER.>",
    "$JS.API.CONSUMER.NAMES.>",
    "$JS.API.CONSUMER.LIST.>",
)


def _route(tokens: list[str]) -> tuple[str, _Handler, list[str]] | None:
    for prefix, kind, handler, least, most in _ROUTES:
        if tuple(tokens[: len(prefix)]) == prefix:
            args = tokens[len(prefix) :]
            if least <= len(args) <= most and all(args):
                return kind, handler, args
            return None
    return None


def not_enabled_response(subject: str) -> dict[str, Any] | None:
    """The 503/10039 answer for any API request in an account without JetStream."""
    route = _route(subject.split(".")[2:])
    kind = route[0] if route else "account_info_response"
    response = {"type": _TYPE + kind, "error": errors.not_enabled().to_json()}
    return response | ERROR_EXTRAS.get(kind, {})  # the same response struct as other errors
