"""One client connection's rules, without sockets: its CONNECT, who it is, what it may do.

Theory of operation. The asyncio Client (client.py) owns the transport and the subscriptions;
for every decision that is policy rather than I/O it asks its Session, which answers with the
protocol events to send (`Err`, `Ok`) and takes the time as an argument, so unit tests drive it
with plain values (tests/server_stub/test_session.py).

- The auth gate: until CONNECT is accepted, any other operation either binds no_auth_user
  (nats-server does that for a client that starts without CONNECT) or closes the connection
  with 'Authorization Violation'. Servers without auth let everything through.
- Permissions, nats-server's order: a PUB is checked for its subject's syntax (only pedantic
  clients hear about a bad one), then the allow/deny lists, then the payload limit; a client
  may also publish to the reply subject of a request it received (a reply grant, counted down
  from the response permission's max and void after its ttl). A SUB is checked for permission,
  the subscription limit, a reused sid (ignored), and only then the subject's syntax. A message
  for a wildcard subscription is filtered on delivery when the deny list bars its subject.
- Limits: subscriptions and payload per connection, the smaller of the account's and the
  user's (an operator-mode Grant carries both).
- The per-turn budget: how many operations one connection may have handled before the others
  get their turn of the event loop.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from nscpy.jwt.subject import is_valid_publish_subject, is_valid_subject
from server_stub import errors
from server_stub.auth import Identity
from server_stub.events import Err, Ok, ServerEvent
from server_stub.inbox import INBOX_PREFIX
from server_stub.policy import Grant, Permissions

log = logging.getLogger("server_stub")

# Operations one connection may have handled per turn of the event loop before the others get
# theirs. A read brings up to 256 KB (~13,000 SUBs of a SUB storm, ~80 ms of work); nats-server
# gives each connection its own goroutine, so nobody waits for another client's backlog there.
EVENTS_PER_TURN = 1000
PAYLOAD_COST_SHIFT = 10  # a PUB costs one operation more per KB of payload

OK = Ok()


class Gate(enum.Enum):
    """What to do with an operation other than CONNECT (see Session.gate)."""

    OPEN = "open"  # authenticated, or no auth configured
    BIND_DEFAULT_USER = "bind no_auth_user"  # bind it, then handle the operation
    REFUSE = "refuse"  # close with 'Authorization Violation'


@dataclass(frozen=True, slots=True)
class PubVerdict:
    """What to do with one PUB: send `send` first, then deliver or not; `close` ends it."""

    deliver: bool
    send: tuple[ServerEvent, ...] = ()
    close: Err | None = None


DELIVER = PubVerdict(True)
DELIVER_AFTER_OK = PubVerdict(True, (OK,))  # verbose: nats-server acknowledges, then delivers
_VALID_PUBLISH: dict[str, bool] = {}
_PUBLISHABLE_KEPT = 1024


def valid_publish_subject(subject: str) -> bool:
    """is_valid_publish_subject, cached: publishers mostly repeat a few subjects."""
    ok = _VALID_PUBLISH.get(subject)
    if ok is None:
        if subject.startswith(INBOX_PREFIX):  # a reply inbox, published to once: not kept
            return is_valid_publish_subject(subject)
        if len(_VALID_PUBLISH) > 8192:
            _VALID_PUBLISH.clear()
        ok = _VALID_PUBLISH[subject] = is_valid_publish_subject(subject)
    return ok


def _flag(options: dict[str, Any], key: str, default: bool) -> bool:
    return bool(options.get(key, default))


def _text(options: dict[str, Any], key: str) -> str:
    value = options.get(key)
    return value if isinstance(value, str) else ""


class Session:
    """The rules of one client connection (no sockets, no clock, no event loop)."""

    def __init__(
        self,
        cid: int = 0,
        *,
        auth_required: bool = False,
        no_auth_user: bool = False,
        server_max_payload: int = -1,
    ) -> None:
        self.cid = cid  # for log lines only
        self.auth_required = auth_required
        self.no_auth_user = no_auth_user  # a client without credentials becomes that user
        self.server_max_payload = server_max_payload
        # CONNECT's options; nats-server's defaults until CONNECT says otherwise
        self.verbose = True
        self.pedantic = True
        self.echo = True
        self.headers = False
        self.no_responders = False
        self.protocol = 0
        self.name = self.lang = self.client_version = ""
        # who the client is once bound, and what it may do
        self.connected = False
        self.identity: Identity | None = None
        self.permissions: Permissions | None = None
        self.max_subs = -1
        self.max_payload = -1
        self.replies: dict[str, list[float]] = {}  # reply subject -> [remaining, deadline]
        self.budget = 0  # operations this connection may still handle in this turn
        # Subjects check_publish delivered on the client's own rights (no reply grant, no +OK):
        # the same subject is delivered again, so Client's fast path may skip the call. The
        # size is the parser's to bound (ServerConnection.max_payload is payload_limit).
        # Cleared whenever the rights or CONNECT's options change.
        self.publishable: set[str] = set()

    # --- CONNECT and the auth gate -------------------------------------------------------------

    def read_connect(self, options: dict[str, Any]) -> Err | None:
        """Take CONNECT's client options; an Err that closes the connection, or None."""
        self.publishable.clear()
        # nats-server's client options default to verbose=true when the field is missing
        self.verbose = _flag(options, "verbose", True)
        self.pedantic = _flag(options, "pedantic", True)
        self.echo = _flag(options, "echo", True)
        self.headers = _flag(options, "headers", False)
        self.no_responders = _flag(options, "no_responders", False)
        proto = options.get("protocol", 0)
        self.protocol = proto if isinstance(proto, int) else 0
        self.name = _text(options, "name")
        self.lang = _text(options, "lang")
        self.client_version = _text(options, "version")
        if self.no_responders and not self.headers:
            return Err(errors.NO_RESPONDERS_NEEDS_HEADERS)
        return None

    @property
    def past_gate(self) -> bool:
        """True when operations other than CONNECT need no check (see gate)."""
        return self.connected or not self.auth_required

    def gate(self) -> Gate:
        """The auth gate for an operation other than CONNECT."""
        if self.connected or not self.auth_required:
            return Gate.OPEN
        if self.no_auth_user:
            return Gate.BIND_DEFAULT_USER
        return Gate.REFUSE

    def bind(self, identity: Identity, account_max_subs: int, account_max_payload: int) -> None:
        """Authenticated: take the identity's permissions and limits (the account's for config
        users, the grant's in operator mode)."""
        self.identity = identity
        self.permissions = identity.permissions
        self.publishable.clear()
        if identity.grant is not None:
            self.apply_grant(identity.grant)
        else:
            self.max_subs, self.max_payload = account_max_subs, account_max_payload
        self.connected = True

    def apply_grant(self, grant: Grant) -> None:
        """Permissions and limits from an operator-mode grant (at connect and on updates)."""
        self.publishable.clear()
        self.permissions = grant.permissions
        self.max_subs = grant.max_subs
        self.max_payload = grant.max_payload

    @property
    def payload_limit(self) -> int:
        """The largest payload a PUB line may announce: the connection's own limit once the user
        is known, else the server's (nats-server checks it as soon as it reads the PUB line)."""
        limit = self.server_max_payload
        if 0 <= self.max_payload < limit:
            limit = self.max_payload
        return limit

    # --- turns ---------------------------------------------------------------------------------

    def new_turn(self) -> None:
        """The connection's input is being handled again: a fresh budget."""
        self.budget = EVENTS_PER_TURN

    # --- publish -------------------------------------------------------------------------------

    def check_publish(self, subject: str, size: int, now: float) -> PubVerdict:
        """Charge the turn's budget for a PUB of `size` bytes (headers and payload); decide it."""
        self.budget -= 1 + (size >> PAYLOAD_COST_SHIFT)  # a big payload's copies
        if not (_VALID_PUBLISH.get(subject) or valid_publish_subject(subject)):
            return self._check_invalid_subject(subject, size, now)
        # the hot path: every call here costs each message, hence the inlined checks
        perms = self.permissions
        if perms is not None and not perms.can_publish(subject):
            if not self._use_reply_grant(subject, now):
                log.info("cid %d: Publish Violation - Subject %r", self.cid, subject)
                return PubVerdict(False, (Err(errors.pub_violation(subject)),))
        elif not self.verbose and not subject.startswith(INBOX_PREFIX):
            publishable = self.publishable
            if len(publishable) >= _PUBLISHABLE_KEPT:
                publishable.clear()
            publishable.add(subject)
        max_payload = self.max_payload
        if max_payload >= 0 and max_payload < size:
            return PubVerdict(False, close=Err(errors.MAX_PAYLOAD))
        return DELIVER_AFTER_OK if self.verbose else DELIVER

    def _check_invalid_subject(self, subject: str, size: int, now: float) -> PubVerdict:
        # Only pedantic clients hear about it (nats-py connects with pedantic:false, and its
        # JetStream API publishes to `...CONSUMER.CREATE.S.C.orders.>`); either way a wildcard
        # subject is still delivered, matched token by token as literal text.
        send: tuple[ServerEvent, ...] = ()
        if self.pedantic:
            send = (Err(errors.INVALID_PUBLISH_SUBJECT),)
        perms = self.permissions
        if "" in subject.split("."):
            # nats-server's sublist gives up on an empty token (`a..b`) but takes `a.>.b` token
            # by token; permissions are still checked, and an allow list never matches such a
            # subject. Nothing is delivered either way.
            if perms is not None and perms.pub_allow is not None:
                return PubVerdict(False, (*send, Err(errors.pub_violation(subject))))
            return PubVerdict(False, (*send, OK) if self.verbose else send)
        if perms is not None and not perms.can_publish(subject):
            if not self._use_reply_grant(subject, now):
                log.info("cid %d: Publish Violation - Subject %r", self.cid, subject)
                return PubVerdict(False, (*send, Err(errors.pub_violation(subject))))
        if 0 <= self.max_payload < size:
            return PubVerdict(False, send, Err(errors.MAX_PAYLOAD))
        if not send:
            return DELIVER_AFTER_OK if self.verbose else DELIVER
        return PubVerdict(True, (*send, OK) if self.verbose else send)

    def _use_reply_grant(self, subject: str, now: float) -> bool:
        """True when `subject` is the reply subject of a request this client received and the
        grant still has answers left within its ttl; counts one answer down."""
        grant = self.replies.get(subject)
        if grant is None:
            return False
        if grant[1] and grant[1] < now:
            del self.replies[subject]
            return False
        grant[0] -= 1
        if grant[0] <= 0:
            del self.replies[subject]
        return True

    # --- subscribe and deliver -----------------------------------------------------------------

    def check_subscribe(
        self, subject: str, queue: str | None, sid_in_use: bool, subscriptions: int
    ) -> Err | Ok | None:
        """An Err to send for a refused SUB, Ok for a reused sid (acknowledged and ignored, even
        with a subject it would refuse), or None: subscribe, then acknowledge."""
        perms = self.permissions
        if perms is not None and not perms.can_subscribe(subject, queue):
            log.info("cid %d: Subscription Violation - Subject %r", self.cid, subject)
            return Err(errors.sub_violation(subject, queue))
        if 0 <= self.max_subs <= subscriptions:
            return Err(errors.MAX_SUBSCRIPTIONS)
        if sid_in_use:
            return OK
        if not is_valid_subject(subject) or (queue is not None and not queue):
            return Err(errors.INVALID_SUBJECT)
        return None

    def may_deliver(self, subject: str, reply: str | None, now: float) -> bool:
        """False when the deny list bars `subject` (a wildcard subscription); a delivered
        request's reply subject becomes a reply grant when response permissions are set."""
        perms = self.permissions
        if perms is None:
            return True
        if not perms.can_deliver(subject):
            return False
        if reply and perms.response is not None:
            ttl = perms.response.ttl
            self.replies[reply] = [perms.response.max_msgs, now + ttl if ttl else 0]
        return True
