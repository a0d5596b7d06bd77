"""The HTTP monitoring endpoints (/healthz, /varz, /connz, /subsz, /accountz, /jsz), sans-I/O.

The server hands a snapshot (ServerView: plain data, no sockets) and a request; `handle` returns
the status and body with nats-server 2.15.1's JSON field names, in its order, for what the stub
has. Query options nats-server knows and the stub does not implement are refused with 400 and a
sentence saying so; endpoints it does not have (routes, gateways, leaf nodes, raft) answer 501.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from nscpy.values import format_go_duration
from server_stub.monitor_views import ConnView, JsAccountView, JsView, ServerView, SubView

DEFAULT_LIMIT = 1024  # nats-server's DefaultConnListSize / DefaultSubListSize


class QueryError(ValueError):
    """A query option the server answers with 400."""


def timestamp(when: float) -> str:
    """RFC 3339 in UTC with nanoseconds, as Go's time.Time marshals."""
    whole = int(when)
    nanos = int(round((when - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    stamp = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    return f"{stamp}{fraction}Z"


def _duration(seconds: float) -> str:
    """Go's Duration text rounded to whole seconds, as connz/varz show uptime and idle."""
    return format_go_duration(int(seconds) * 1_000_000_000)


def _seconds(value: float) -> float | int:
    """A float64 of seconds as Go's encoder prints it: 2, not 2.0."""
    return int(value) if float(value).is_integer() else value


def _rtt(seconds: float) -> str:
    return format_go_duration(round(seconds * 1e9))


def _int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"Error decoding int for '{name}': {raw!r} is not a number") from None


def _flag(query: dict[str, str], name: str) -> bool:
    raw = query.get(name, "")
    if raw in ("", "0", "false", "f", "F", "FALSE", "False"):
        return False
    if raw in ("1", "true", "t", "T", "TRUE", "True"):
        return True
    raise QueryError(f"Error decoding boolean for '{name}': {raw!r}")


def _refuse(query: dict[str, str], names: tuple[str, ...], endpoint: str) -> None:
    for name in names:
        if query.get(name):
            raise QueryError(f"server_stub does not implement {endpoint} option {name!r}")


def _page(items: list[Any], query: dict[str, str]) -> tuple[list[Any], int, int]:
    offset = max(0, _int(query, "offset", 0))
    limit = _int(query, "limit", DEFAULT_LIMIT)
    if limit <= 0:
        limit = DEFAULT_LIMIT
    return items[offset : offset + limit], offset, limit


def varz(view: ServerView, now: float) -> dict[str, Any]:
    """/varz: server settings and counters."""
    opts = view.options
    out: dict[str, Any] = {
        "server_id": view.server_id,
        "server_name": view.server_name,
        "version": view.version,
        "proto": 1,
        "git_commit": "server_stub",
        "go": view.go,
        "host": view.host,
        "port": view.port,
    }
    if view.auth_required:
        out["auth_required"] = True
    if view.tls_required:
        out["tls_required"] = True
    out |= {
        "max_connections": opts.max_connections,
        "ping_interval": round(opts.ping_interval * 1e9),
        "ping_max": opts.ping_max,
        "http_host": view.http_host,
        "http_port": view.http_port,
        "http_base_path": view.http_base_path,
        "https_port": 0,
        "auth_timeout": _seconds(opts.auth_timeout),
        "max_control_line": opts.max_control_line,
        "max_payload": opts.max_payload,
        "max_pending": opts.max_pending,
        "cluster": {},
        "gateway": {},
        "leaf": {},
        "mqtt": {},
        "websocket": view.websocket,
        "jetstream": _varz_jetstream(view.jetstream),
        "tls_timeout": _seconds(opts.tls.timeout if opts.tls is not None else 2.0),
        "write_deadline": round(getattr(opts, "write_deadline", 10.0) * 1e9),
        "start": timestamp(view.start),
        "now": timestamp(now),
        "uptime": _duration(now - view.start),
        "mem": view.mem,
        "cores": view.cores,
        "connections": len(view.connections),
        "total_connections": view.total_connections,
        "routes": 0,
        "remotes": 0,
        "leafnodes": 0,
        "in_msgs": view.in_msgs,
        "in_bytes": view.in_bytes,
        "out_msgs": view.out_msgs,
        "out_bytes": view.out_bytes,
        "slow_consumers": view.slow_consumers,
        "subscriptions": len(view.subscriptions),
        "http_req_stats": dict(view.http_req_stats),
        "system_account": view.system_account,
    }
    return out


def _varz_jetstream(js: JsView | None) -> dict[str, Any]:
    if js is None:
        return {}
    return {"config": _js_config(js), "stats": _js_stats(js), "limits": {}}


def _js_config(js: JsView) -> dict[str, Any]:
    # -1: no limit configured (nats-server shows the limit it derived from memory and disk)
    return {"max_memory": js.max_memory, "max_storage": js.max_storage, "store_dir": js.store_dir}


def _js_stats(js: JsView) -> dict[str, Any]:
    streams = [s for a in js.accounts for s in a.streams]
    return {
        "memory": sum(s.bytes for s in streams if s.storage == "memory"),
        "storage": sum(s.bytes for s in streams if s.storage == "file"),
        "reserved_memory": 0,
        "reserved_storage": 0,
        "accounts": len(js.accounts),
        "ha_assets": 0,
        "api": {
            "level": 5,
            "total": sum(a.api_total for a in js.accounts),
            "errors": sum(a.api_errors for a in js.accounts),
        },
    }


_CONNZ_SORTS: dict[str, tuple[Callable[[ConnView], Any], bool]] = {
    "cid": (lambda c: c.cid, False),
    "start": (lambda c: c.start, False),
    "subs": (lambda c: len(c.subs), True),
    "pending": (lambda c: c.pending_bytes, True),
    "msgs_to": (lambda c: c.out_msgs, True),
    "msgs_from": (lambda c: c.in_msgs, True),
    "bytes_to": (lambda c: c.out_bytes, True),
    "bytes_from": (lambda c: c.in_bytes, True),
    "last": (lambda c: c.last_activity, True),
    "idle": (lambda c: c.last_activity, False),
    "uptime": (lambda c: c.start, False),
}


def connz(view: ServerView, query: dict[str, str], now: float) -> dict[str, Any]:
    """/connz: open client connections (subs, offset, limit, cid, acc, user, auth, sort)."""
    _refuse(query, ("filter_subject", "mqtt_client"), "connz")
    state = query.get("state", "open") or "open"
    if state not in ("open", "closed", "any", "all"):
        raise QueryError(f"Error decoding state for {state}")
    if state != "open":
        raise QueryError(f"server_stub keeps no closed connections (state={state})")
    subs = query.get("subs", "")
    detail = subs == "detail"
    with_subs = detail or _flag(query, "subs")
    auth = _flag(query, "auth")
    sort = query.get("sort", "cid") or "cid"
    if sort not in _CONNZ_SORTS:
        raise QueryError(f"server_stub does not implement connz sort option {sort!r}")
    conns = list(view.connections)
    if "cid" in query:
        cid = _int(query, "cid", 0)
        conns = [c for c in conns if c.cid == cid]
    if query.get("acc"):
        conns = [c for c in conns if c.account == query["acc"]]
    if query.get("user"):
        conns = [c for c in conns if c.user == query["user"]]
    key, reverse = _CONNZ_SORTS[sort]
    conns.sort(key=key, reverse=reverse)
    page, offset, limit = _page(conns, query)
    return {
        "server_id": view.server_id,
        "now": timestamp(now),
        "num_connections": len(page),
        "total": len(conns),
        "offset": offset,
        "limit": limit,
        "connections": [_conn(c, now, with_subs, detail, auth) for c in page],
    }


def _conn(c: ConnView, now: float, with_subs: bool, detail: bool, auth: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cid": c.cid,
        "kind": "Client",
        "type": c.kind_type,
        "ip": c.ip,
        "port": c.port,
        "start": timestamp(c.start),
        "last_activity": timestamp(c.last_activity),
    }
    if c.rtt is not None:
        out["rtt"] = _rtt(c.rtt)
    out |= {
        "uptime": _duration(now - c.start),
        "idle": _duration(now - c.last_activity),
        "pending_bytes": c.pending_bytes,
        "in_msgs": c.in_msgs,
        "out_msgs": c.out_msgs,
        "in_bytes": c.in_bytes,
        "out_bytes": c.out_bytes,
        "subscriptions": len(c.subs),
    }
    for name, value in (("name", c.name), ("lang", c.lang), ("version", c.version)):
        if value:
            out[name] = value
    if c.tls_version:
        out["tls_version"] = c.tls_version
    if auth:
        if c.user:
            out["authorized_user"] = c.user
        if c.account and c.account != "$G":  # nats-server leaves the global account out
            out["account"] = c.account
    if with_subs and c.subs:
        if detail:
            out["subscriptions_list_detail"] = [_sub(s, with_account=False) for s in c.subs]
        else:
            out["subscriptions_list"] = [s.subject for s in c.subs]
    return out


def _sub(s: SubView, *, with_account: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_account:
        out |= {"account": s.account, "account_tag": s.account}
    out["subject"] = s.subject
    if s.queue:
        out["qgroup"] = s.queue
    out |= {"sid": s.sid, "msgs": s.msgs, "cid": s.cid}
    return out


def subsz(view: ServerView, query: dict[str, str], now: float) -> dict[str, Any]:
    """/subsz: subscription counts; subs=1 lists them (offset, limit, acc, test)."""
    from nscpy.jwt.subject import subject_matches

    subs = list(view.subscriptions)
    if query.get("acc"):
        subs = [s for s in subs if s.account == query["acc"]]
    test = query.get("test")
    if test:
        subs = [s for s in subs if subject_matches(s.subject, test)]
    page, offset, limit = _page(subs, query)
    out: dict[str, Any] = {
        "server_id": view.server_id,
        "now": timestamp(now),
        "num_subscriptions": len(view.subscriptions),
        "total": len(subs),
        "offset": offset,
        "limit": limit,
    }
    if _flag(query, "subs") and page:
        out["subscriptions_list"] = [_sub(s, with_account=True) for s in page]
    return out


def accountz(view: ServerView, query: dict[str, str], now: float) -> dict[str, Any]:
    """/accountz: account names; acc=NAME gives that account's detail."""
    _refuse(query, ("include_unused", "unused"), "accountz")
    out: dict[str, Any] = {
        "server_id": view.server_id,
        "now": timestamp(now),
        "system_account": view.system_account,
    }
    name = query.get("acc")
    if not name:
        out["accounts"] = [a.name for a in view.accounts]
        return out
    account = next((a for a in view.accounts if a.name == name), None)
    if account is None:
        raise QueryError(f"Account {name} does not exist")
    out["account_detail"] = {
        "account_name": account.name,
        "update_time": timestamp(account.update_time),
        "expired": False,
        "complete": True,
        "jetstream_enabled": account.jetstream,
        "leafnode_connections": 0,
        "client_connections": account.client_connections,
        "subscriptions": account.subscriptions,
        "name_tag": account.name,
    }
    return out


def jsz(view: ServerView, query: dict[str, str], now: float) -> dict[str, Any]:
    """/jsz: JetStream totals; accounts=true adds each account's (acc=NAME: that one)."""
    _refuse(query, ("streams", "consumers", "config", "raft", "stream-leader-only"), "jsz")
    js = view.jetstream
    if js is None:
        return {
            "memory": 0,
            "storage": 0,
            "reserved_memory": 0,
            "reserved_storage": 0,
            "accounts": 0,
            "ha_assets": 0,
            "api": {"level": 0, "total": 0, "errors": 0},
            "server_id": view.server_id,
            "now": timestamp(now),
            "disabled": True,
            "config": {"max_memory": 0, "max_storage": 0},
            "streams": 0,
            "consumers": 0,
            "messages": 0,
            "bytes": 0,
            "total": 0,
        }
    streams = [s for a in js.accounts for s in a.streams]
    out = _js_stats(js) | {
        "server_id": view.server_id,
        "now": timestamp(now),
        "config": _js_config(js),
        "limits": {},
        "streams": len(streams),
        "consumers": sum(s.consumers for s in streams),
        "messages": sum(s.messages for s in streams),
        "bytes": sum(s.bytes for s in streams),
    }
    accounts = list(js.accounts)
    if query.get("acc"):
        accounts = [a for a in accounts if a.name == query["acc"]]
    if _flag(query, "accounts") or query.get("acc"):
        page, _, _ = _page(accounts, query)
        out["account_details"] = [_js_account(a) for a in page]
    out["total"] = len(accounts)
    return out


def _js_account(account: JsAccountView) -> dict[str, Any]:
    streams = account.streams
    return {
        "name": account.name,
        "id": account.name,
        "memory": sum(s.bytes for s in streams if s.storage == "memory"),
        "storage": sum(s.bytes for s in streams if s.storage == "file"),
        "reserved_memory": 0,
        "reserved_storage": 0,
        "accounts": 0,
        "ha_assets": 0,
        "api": {"level": 0, "total": account.api_total, "errors": account.api_errors},
    }


_ENDPOINTS: dict[str, Callable[[ServerView, dict[str, str], float], dict[str, Any]]] = {
    "/varz": lambda view, query, now: varz(view, now),
    "/connz": connz,
    "/subsz": subsz,
    "/subscriptionsz": subsz,
    "/accountz": accountz,
    "/jsz": jsz,
    "/healthz": lambda view, query, now: {"status": "ok"},
}
# nats-server's other endpoints: the stub has no routes, gateways, leaf nodes or raft groups
_NOT_HERE = {
    "/routez", "/gatewayz", "/leafz", "/accstatz", "/stacksz", "/ipqueuesz", "/raftz",
    "/expvarz", "/profilez",
}  # fmt: skip


def endpoint_paths() -> list[str]:
    """The paths `handle` answers with 200 (http_req_stats counts these)."""
    return list(_ENDPOINTS)


def handle(path: str, query: dict[str, str], view: ServerView, now: float) -> tuple[int, bytes]:
    """Status and body for one GET of `path` (the base path already removed)."""
    if path in _ENDPOINTS:
        try:
            body = _ENDPOINTS[path](view, query, now)
        except QueryError as exc:
            return 400, str(exc).encode()
        return 200, to_json(body)
    if path in _NOT_HERE:
        return 501, f"server_stub does not implement {path}".encode()
    return 404, b"404 page not found\n"


def to_json(body: dict[str, Any]) -> bytes:
    """Go's json.MarshalIndent text: two-space indent, <, > and & escaped."""
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()
