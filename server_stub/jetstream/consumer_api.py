"""The `$JS.API.CONSUMER.*` handlers: create (durable and ephemeral), info, pause, delete,
names and list.

Each handler takes the account, the decoded request body, the time and the name tokens of the
subject, and returns the response body without `type` (`api` adds it) or raises an ApiError
with nats-server's code and text.
"""

from __future__ import annotations

from typing import Any

from server_stub.jetstream import advisories, errors, retention
from server_stub.jetstream.account import JsAccount
from server_stub.jetstream.apiwire import page_offset, random_name
from server_stub.jetstream.consumer import Consumer, ConsumerConfig
from server_stub.jetstream.consumerstate import info_json
from server_stub.jetstream.stream_api import LIST_LIMIT, NAMES_LIMIT
from server_stub.jetstream.wire import go_time, parse_go_time


def consumer_create(
    account: JsAccount,
    body: dict[str, Any],
    now: int,
    stream_name: str,
    name: str = "",
    *rest: str,
) -> dict[str, Any]:
    """CONSUMER.CREATE / CONSUMER.DURABLE.CREATE: a new consumer, the same again, or an update."""
    stream = account.find_stream(stream_name)
    unknown = sorted(set(body) - {"stream_name", "config", "action", "pedantic"})
    if unknown:
        raise errors.unknown_field(unknown[0])
    if body.get("pedantic"):
        raise errors.consumer_unsupported("pedantic mode")
    action = body.get("action") or ""
    if action not in ("", "create", "update"):
        raise errors.invalid_json(f"unknown consumer action {action!r}")
    raw = body.get("config")
    if not isinstance(raw, dict):
        raise errors.bad_request("consumer config required")
    wanted = raw.get("durable_name") or raw.get("name") or ""
    if not name and raw.get("durable_name"):  # CONSUMER.CREATE.<stream> is for ephemerals
        raise errors.ApiError(
            400,
            10020,
            "consumer expected to be ephemeral but a durable name was set in request",
        )
    if name and wanted and wanted != name:
        raise errors.consumer_name_mismatch()
    name = name or wanted or random_name()
    config = ConsumerConfig.from_request(raw, name, stream.config.consumer_limits)
    if config.deliver_subject and stream.covers(config.deliver_subject):
        raise errors.ApiError(400, 10081, "consumer deliver subject forms a cycle")
    existing = account.consumers[stream_name].get(name)
    if existing is None and action == "update":
        raise errors.ApiError(400, 10149, "consumer does not exist")
    if existing is not None:
        if existing.config.same_as(config):
            return info_json(existing, now)
        if action == "create":
            raise errors.ApiError(400, 10148, "consumer already exists")
        existing.config.check_update(config, bound=existing.has_interest())
        existing.config = config
        account.host.consumer_changed(account.name, existing, added=False)
        return info_json(existing, now)
    retention.check_consumer(stream, account.consumers[stream_name].values(), config)
    total = sum(len(c) for c in account.consumers.values())
    if 0 < account.limits.max_consumers <= total:
        raise errors.max_consumers()
    if 0 < stream.config.max_consumers <= len(account.consumers[stream_name]):
        raise errors.max_consumers()
    consumer = Consumer(stream, config, now, now)
    account.consumers[stream_name][name] = consumer
    account.track_retention(consumer)
    account.host.consumer_changed(account.name, consumer, added=True)
    account.host.advise(account.name, advisories.consumer_action(stream_name, name, "CREATED"))
    return info_json(consumer, now)


def consumer_info(
    account: JsAccount, body: dict[str, Any], now: int, stream: str, name: str
) -> dict[str, Any]:
    """CONSUMER.INFO."""
    return info_json(account.find_consumer(stream, name), now)


def consumer_pause(
    account: JsAccount, body: dict[str, Any], now: int, stream: str, name: str
) -> dict[str, Any]:
    """CONSUMER.PAUSE: hold deliveries until `pause_until` (none or a past time resumes)."""
    consumer = account.find_consumer(stream, name)
    until = 0
    if body.get("pause_until"):
        try:
            until = parse_go_time(body["pause_until"])
        except ValueError as exc:
            raise errors.invalid_json(str(exc)) from None
    account.host.consumer_paused(account.name, consumer, consumer.pause(until, now))
    out: dict[str, Any] = {"paused": consumer.config.paused(now)}
    out["pause_until"] = go_time(until)
    if out["paused"]:
        out["pause_remaining"] = until - now
    return out


def consumer_delete(
    account: JsAccount, body: dict[str, Any], now: int, stream: str, name: str
) -> dict[str, Any]:
    """CONSUMER.DELETE."""
    account.remove_consumer(account.find_consumer(stream, name))
    return {"success": True}


def consumer_names(
    account: JsAccount, body: dict[str, Any], now: int, stream: str
) -> dict[str, Any]:
    """CONSUMER.NAMES: a page of a stream's consumer names."""
    account.find_stream(stream)
    names = sorted(account.consumers[stream])
    offset = page_offset(body)
    page = names[offset : offset + NAMES_LIMIT]
    return {"total": len(names), "offset": offset, "limit": NAMES_LIMIT, "consumers": page}


def consumer_list(
    account: JsAccount, body: dict[str, Any], now: int, stream: str
) -> dict[str, Any]:
    """CONSUMER.LIST: a page of a stream's consumer infos."""
    account.find_stream(stream)
    found = account.consumers[stream]
    offset = page_offset(body)
    names = sorted(found)[offset : offset + LIST_LIMIT]
    page = [info_json(found[n], now, full_metadata=False) for n in names]
    total = len(found)
    return {"total": total, "offset": offset, "limit": LIST_LIMIT, "consumers": page}
