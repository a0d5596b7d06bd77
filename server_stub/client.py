"""One client connection's operations: CONNECT and binding, SUB/UNSUB/PUB/PING/PONG,
delivery for the router, and cleanup.

A Client is an Inbound (inbound.py: transport callbacks, parse loop, timers) over an Outbound
(outbound.py: queue, flush, write deadline, close). Each handler asks the connection's Session
(session.py) for the rules and sends what it answers (Err, Ok) through the protocol's `send`;
delivery encodes with the same encoder functions, skipping only the event object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from server_stub import errors
from server_stub.auth import ConnectionInfo, Identity
from server_stub.callout import Callout, CalloutNeeded
from server_stub.encoding import encode_hmsg, encode_msg, msg_heads, wire
from server_stub.errors import AuthError
from server_stub.events import (
    Connect,
    Err,
    HPub,
    Info,
    Ping,
    Pong,
    Pub,
    ServerEvent,
    Sub,
    Unsub,
)
from server_stub.headers import no_responders
from server_stub.inbound import Inbound
from server_stub.inbox import INBOX_PREFIX
from server_stub.policy import Grant
from server_stub.protocol import split_body
from server_stub.router import Account, Subscription
from server_stub.session import (
    DELIVER,
    EVENTS_PER_TURN,
    OK,
    PAYLOAD_COST_SHIFT,
    Gate,
    PubVerdict,
    valid_publish_subject,
)

if TYPE_CHECKING:
    from server_stub.server import Server

log = logging.getLogger("server_stub")

_PONG = Pong()


class Client(Inbound):
    """One client connection: its operations, authentication, delivery and cleanup."""

    def __init__(self, server: Server) -> None:
        super().__init__(server)
        self.account: Account | None = None
        self.subs: dict[str, Subscription] = {}

    @property
    def identity(self) -> Identity | None:
        """Who the client authenticated as (None before CONNECT)."""
        return self.session.identity

    @property
    def echo(self) -> bool:
        """Whether the client gets its own messages (CONNECT's echo; the router asks)."""
        return self.session.echo

    # --- authentication ------------------------------------------------------------------------

    def _auth_gate(self) -> bool:
        """Before CONNECT: bind no_auth_user or refuse (see Session.gate); True to go on."""
        if self.session.gate() is Gate.BIND_DEFAULT_USER:
            # nats-server binds no_auth_user to a client that starts without CONNECT
            self._bind(self.server.auth.authenticate({}, self._connection_info()), ok=False)
            return not self.closed
        self.fail(errors.AUTH_VIOLATION)
        return False

    def _connection_info(self) -> ConnectionInfo:
        kind = "WEBSOCKET" if self.websocket else "STANDARD"
        return ConnectionInfo(self.host, self.port, self.nonce, time.time(), self.tls, kind)

    def _on_connect(self, event: Connect) -> None:
        session = self.session
        refusal = session.read_connect(event.options)
        if refusal is not None:
            self.fail(refusal.text)
            return
        if session.connected:
            # nats-server takes a second CONNECT as a new login: the client is authenticated
            # again (a refusal closes it) and loses the subscriptions it had made
            self._unbind()
        server = self.server
        info = self._connection_info()
        try:
            identity = server.auth.authenticate(event.options, info)
        except AuthError as exc:
            log.info("cid %d: authentication error: %s", self.cid, exc.reason)
            self.fail(exc.err)
            return
        except CalloutNeeded as need:
            self._cancel("auth")  # the callout's own timeout (the auth timeout) applies
            self.paused = True
            Callout(server, self, need, event.options, info)  # after any TLS upgrade
            return
        self._bind(identity)

    def callout_done(self, identity: Identity | None) -> None:
        """The auth callout decided: bind the identity (or refuse), then resume the input."""
        self.paused = False
        if self.closed:
            return
        if identity is None:
            self.fail(errors.AUTH_VIOLATION)
            return
        self._bind(identity)
        if not self.closed:
            self._process()

    def _bind(self, identity: Identity, ok: bool = True) -> None:
        server = self.server
        try:
            account = server.router.account(identity.account)
            if server.operator is not None:  # account-level checks (connection limits)
                server.operator.admit(identity, account, len(server.clients_of(account)))
        except AuthError as exc:
            log.info("cid %d: authentication error: %s", self.cid, exc.reason)
            self.fail(exc.err)
            return
        self._cancel("auth")
        self.account = account
        self.session.bind(identity, account.max_subs, account.max_payload)
        self.proto.max_payload = self.session.payload_limit
        account.clients.add(self)
        if identity.expires is not None:
            self._timer("expiry", max(0.0, identity.expires - time.time()), self._expired)
        if ok:
            self._ok()

    def _unbind(self) -> None:
        """Drop the subscriptions and the account binding (before a second CONNECT's login)."""
        subs = list(self.subs.values())
        self.subs.clear()
        for sub in subs:
            self.server.router.unsubscribe(sub)
        if self.account is not None:
            self.account.clients.discard(self)
            self.account = None
        self._cancel("expiry")

    def apply_grant(self, grant: Grant) -> None:
        """Take permissions and limits from an operator-mode grant (an updated account JWT)."""
        self.session.apply_grant(grant)
        self.proto.max_payload = self.session.payload_limit

    # --- operations ----------------------------------------------------------------------------

    def _on_ping(self, event: Ping) -> None:
        self._send(_PONG)
        self.pongs += 1
        if self.pongs == 1 and self.session.connected and self.session.protocol >= 1:
            # nats-server follows the first PONG with an INFO that names the bound account
            self._send(Info(self.server.info(self, None, connect_info=True)))

    def _on_pong(self, event: Pong) -> None:
        self.pings_out = 0
        if self._ping_sent:
            self.rtt = time.monotonic() - self._ping_sent
            self._ping_sent = 0.0

    def _on_sub(self, event: Sub) -> None:
        account = self._account()
        subject = event.subject
        refusal = self.session.check_subscribe(
            subject, event.queue, event.sid in self.subs, len(self.subs)
        )
        if type(refusal) is Err:
            self._send(refusal)
            return
        if refusal is not None:  # a reused sid: acknowledged, ignored
            self._ok()
            return
        sub = Subscription(self, event.sid, subject, event.queue, account)
        self.subs[event.sid] = sub
        self.server.router.subscribe(sub)
        self._ok()

    def _on_unsub(self, event: Unsub) -> None:
        sub = self.subs.get(event.sid)
        if sub is not None:
            if event.max_msgs is not None and sub.delivered < event.max_msgs:
                sub.max_msgs = event.max_msgs
            else:
                self._remove_sub(sub)
        self._ok()

    def _publish_raw(
        self, subject: str, reply: str | None, hdr: int, total: int, tail: bytes
    ) -> bool:
        """read_pubs' handler (see protocol.PubHandler); True: read on.

        The direct path: a PUB/HPUB on a subject the session already let through
        (Session.publishable), into an account with no imports and no service routes, whose
        match is cached, is delivered here: each MSG/HMSG to a client is the subscription's
        prefix, the reply, and the tail, with Router.publish's and Client.deliver's rules (echo,
        closed owners, counts, no responders) kept; a subscription those rules treat specially
        (delivery permissions and reply grants, an UNSUB maximum, no headers) takes the general
        path (Client.deliver), as do a service's subscriptions (InternalClient.deliver: a
        JetStream stream's). A queue group gets one member, picked as Router.deliver_to_queue
        picks it (a random one, then the next in turn while they refuse), each member taken
        directly or generally by the same rules.

        A reply to a request inbox (`_INBOX.…`, each published to about once) from a client
        with no permissions and no +OK to send is fanned out here (Router._fan_out) on its
        inbox's match (SubList.match_inbox), skipping Session.check_publish and
        Router.publish, which would decide nothing else for it. Everything else goes to
        _publish.
        """
        session = self.session
        account = self.account
        if account is not None and subject in session.publishable:
            result = account.sublist.cache.get(subject)
            if result is not None and not (
                account.response_routes or account.stream_exports_to or account.service_imports
            ):
                plan = result.direct
                if plan is None:
                    plan = result.direct = _direct_plan(subject, result.plain, result.queues)
                session.budget -= 1 + (total >> PAYLOAD_COST_SHIFT)
                self.in_msgs += 1
                self.in_bytes += total
                end = tail if reply is None else b""  # the reply's part: made when first needed
                delivered = 0
                targets, groups = plan
                for sub, owner, msg_prefix, hmsg_prefix in targets:
                    if owner is not None:  # a client's subscription
                        if owner.closed or (owner is self and not session.echo):
                            continue
                        owner_session = owner.session
                        # the same test for a queue member below: keep the two alike
                        if (
                            owner_session.permissions is None
                            and sub.max_msgs is None
                            and (hdr < 0 or owner_session.headers)
                        ):
                            if not end:
                                end = wire(reply or "") + b" " + tail
                            owner._queue((msg_prefix if hdr < 0 else hmsg_prefix) + end)
                            owner.out_msgs += 1
                            owner.out_bytes += total
                            sub.delivered += 1
                            delivered += 1
                            continue
                    # a service's subscription (JetStream's), or one the rules treat specially
                    headers, payload = split_body(tail, hdr, total)
                    if sub.owner.deliver(sub, subject, reply, headers, payload):
                        self.server.router.count_delivery(sub)
                        delivered += 1
                if groups:
                    draw = self.server.router.random
                    for members in groups:
                        size = len(members)
                        first = int(draw() * size)  # Router.queue_start, inlined
                        for index in range(first, first + size):
                            sub, owner, msg_prefix, hmsg_prefix = members[index % size]
                            if owner is not None:
                                if owner.closed or (owner is self and not session.echo):
                                    continue
                                owner_session = owner.session
                                if (
                                    owner_session.permissions is None
                                    and sub.max_msgs is None
                                    and (hdr < 0 or owner_session.headers)
                                ):
                                    if not end:
                                        end = wire(reply or "") + b" " + tail
                                    owner._queue((msg_prefix if hdr < 0 else hmsg_prefix) + end)
                                    owner.out_msgs += 1
                                    owner.out_bytes += total
                                    sub.delivered += 1
                                    delivered += 1
                                    break
                            headers, payload = split_body(tail, hdr, total)
                            if sub.owner.deliver(sub, subject, reply, headers, payload):
                                self.server.router.count_delivery(sub)
                                delivered += 1
                                break
                if not delivered and reply and session.no_responders:
                    self._send_no_responders(account, subject, reply)
                return session.budget > 0 and not self.closed
        headers, payload = split_body(tail, hdr, total)
        if (
            account is not None
            and session.permissions is None
            and not session.verbose
            and subject.startswith(INBOX_PREFIX)
            and not (
                account.response_routes or account.stream_exports_to or account.service_imports
            )
            and valid_publish_subject(subject)
        ):
            # (the parser has bounded the payload by the session's limit already)
            session.budget -= 1 + (total >> PAYLOAD_COST_SHIFT)
            self.in_msgs += 1
            self.in_bytes += total
            result = account.sublist.match_inbox(subject)
            count = self.server.router._fan_out(result, subject, reply, headers, payload, self)
            if not count and reply and session.no_responders:
                self._send_no_responders(account, subject, reply)
            return session.budget > 0 and not self.closed
        return self._publish(subject, reply, headers, payload)

    def _on_pub(self, event: Pub | HPub) -> None:
        headers = event.headers if type(event) is HPub else None
        self._publish(event.subject, event.reply, headers, event.payload)

    def _publish(
        self, subject: str, reply: str | None, headers: bytes | None, payload: bytes
    ) -> bool:
        """Handle one PUB/HPUB (read_pubs' handler falls back to this, with no event). True:
        read_pubs may go on; False ends its run (after a refusal, too: the event path then
        reads on, so a rare case only costs speed)."""
        session = self.session
        size = len(payload) + (len(headers) if headers else 0)
        now = time.time()
        verdict = session.check_publish(subject, size, now)
        if verdict is not DELIVER and not self._follow(verdict):
            return False
        account = self.account or self._account()
        self.in_msgs += 1
        self.in_bytes += size
        self.last_activity = now
        count = self.server.router.publish(account, subject, reply, headers, payload, self)
        if count == 0 and reply and session.no_responders:
            self._send_no_responders(account, subject, reply)
        return session.budget > 0 and not self.closed and not self.paused

    def _follow(self, verdict: PubVerdict) -> bool:
        """Send what a PUB's verdict says (errors, +OK), close if it says so; True: deliver."""
        for event in verdict.send:
            self._send(event)
        if verdict.close is not None:
            self.fail(verdict.close.text)
            return False
        return verdict.deliver

    def _send_no_responders(self, account: Account, subject: str, reply: str) -> None:
        for sub in account.sublist.match(reply).plain:
            if sub.owner is self:
                data = encode_hmsg(_wire(reply), sub.sid_b, None, no_responders(subject), b"")
                self._queue(data)
                return

    _handlers: dict[type, Any] = {
        Connect: _on_connect,
        Pub: _on_pub,
        HPub: _on_pub,
        Sub: _on_sub,
        Unsub: _on_unsub,
        Ping: _on_ping,
        Pong: _on_pong,
    }

    # --- delivery (called by the router) -------------------------------------------------------

    def deliver(
        self,
        sub: Subscription,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> bool:
        """Queue MSG/HMSG for one subscription; False when closed or the deny list filters it."""
        if self.closed:
            return False
        session = self.session
        if session.permissions is not None and not session.may_deliver(
            subject, reply, time.time() if reply else 0.0
        ):
            return False
        # the encoder Msg and HMsg events go through, with cached subject and sid bytes
        if headers is not None and session.headers:
            data = encode_hmsg(_wire(subject), sub.sid_b, reply, headers, payload)
            self.out_bytes += len(headers)
        else:
            data = encode_msg(_wire(subject), sub.sid_b, reply, payload)
        self.out_msgs += 1
        self.out_bytes += len(payload)
        self._queue(data)
        return True

    # --- output --------------------------------------------------------------------------------

    def _send(self, event: ServerEvent) -> None:
        self._queue(self.proto.send(event))

    def _ok(self) -> None:
        if self.session.verbose:
            self._send(OK)

    # --- lifecycle -----------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self.cid in self.server.clients:  # the first cleanup: keep its counts for /varz
            stats = self.server.closed_stats
            stats[0] += self.in_msgs
            stats[1] += self.in_bytes
            stats[2] += self.out_msgs
            stats[3] += self.out_bytes
        self.closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self.subs:
            subs = list(self.subs.values())
            self.subs.clear()
            self._unsubscribe_all(subs, 0)
        if self.account is not None:
            self.account.clients.discard(self)
        self.server.clients.pop(self.cid, None)

    def _unsubscribe_all(self, subs: list[Subscription], start: int) -> None:
        # A client leaving with 100,000 SUBs leaves in turns as well (see EVENTS_PER_TURN);
        # meanwhile its subscriptions refuse every delivery, since it is closed.
        unsubscribe = self.server.router.unsubscribe
        end = start + EVENTS_PER_TURN
        for sub in subs[start:end]:
            unsubscribe(sub)
        if end < len(subs):
            asyncio.get_running_loop().call_soon(self._unsubscribe_all, subs, end)

    def _remove_sub(self, sub: Subscription) -> None:
        self.subs.pop(sub.sid, None)
        self.server.router.unsubscribe(sub)

    def _account(self) -> Account:
        if self.account is None:  # no-auth servers accept operations before CONNECT
            self.account = self.server.router.account("$G")
            self.account.clients.add(self)
        return self.account


# (subscription, its client, MSG prefix, HMSG prefix): "MSG <subject> <sid> " + tail is the MSG;
# (subscription, None, b"", b"") for a service's subscription (the server's internal client)
DirectTarget = tuple[Subscription, "Client | None", bytes, bytes]
# the plain subscriptions' targets, and the members' targets of each queue group
DirectPlan = tuple[tuple[DirectTarget, ...], tuple[tuple[DirectTarget, ...], ...]]


def _direct_plan(
    subject: str, plain: list[Subscription], queues: dict[str, list[Subscription]]
) -> DirectPlan:
    """Client._publish_raw's delivery plan for a match result."""
    subject_b = _wire(subject)

    def targets(subs: list[Subscription]) -> tuple[DirectTarget, ...]:
        out: list[DirectTarget] = []
        for sub in subs:
            owner = sub.owner
            if isinstance(owner, Client):
                out.append((sub, owner, *msg_heads(subject_b, sub.sid_b)))
            else:
                out.append((sub, None, b"", b""))
        return tuple(out)

    return targets(plain), tuple(targets(members) for members in queues.values())


# Subject -> wire bytes for delivery: subscribers mostly see a few subjects.
_SUBJECT_BYTES: dict[str, bytes] = {}


def _wire(subject: str) -> bytes:
    raw = _SUBJECT_BYTES.get(subject)
    if raw is None:
        if subject.startswith(INBOX_PREFIX):  # delivered to once: not worth keeping
            return wire(subject)
        if len(_SUBJECT_BYTES) > 8192:
            _SUBJECT_BYTES.clear()
        raw = _SUBJECT_BYTES[subject] = wire(subject)
    return raw
