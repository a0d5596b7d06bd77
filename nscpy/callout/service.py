"""The auth callout service: answers `$SYS.REQ.USER.AUTH` on a nats-py connection.

It subscribes in a queue group (replicas share the requests), reads and verifies each request,
asks the authorizer, and answers with a signed response. The authorizer is the only code a user
writes; whatever it does (raise, hang, return garbage) becomes a rejection with a reason, is
logged, and the service keeps serving. Concurrency is bounded by a semaphore.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nscpy import keys
from nscpy.callout.messages import (
    CALLOUT_SUBJECT,
    Allow,
    AuthRequest,
    CalloutError,
    Decision,
    Reject,
    build_response,
    issue_user,
    read_request,
)

__all__ = ["Authorizer", "CalloutService", "ServiceKeys"]

log = logging.getLogger("nscpy.callout")

Authorizer = Callable[[AuthRequest], "Decision | Awaitable[Decision]"]
"""The user's function: a request in, Allow or Reject out (plain or async)."""


@dataclass
class ServiceKeys:
    """The keys a service signs and opens with.

    Config mode: `issuer` is the account key named by `auth_callout { issuer }`; users are placed
    by account name. Operator mode: `issuer` is the callout account's key (or one of its signing
    keys) with `issuer_account` its identity key, and `accounts` maps every account the service
    may place users into (public key) to a key that may sign its users.
    """

    issuer: keys.KeyPair
    issuer_account: str = ""
    operator_mode: bool = False
    accounts: dict[str, keys.KeyPair] = field(default_factory=dict)
    account_names: dict[str, str] = field(default_factory=dict)
    """Operator mode: account name -> public key, so an authorizer may name accounts."""
    xkey: keys.CurveKeyPair | None = None
    scoped: set[str] = field(default_factory=set)
    """Operator mode: the public keys in `accounts` that are scoped signing keys."""

    def signer_for(self, account: str) -> tuple[keys.KeyPair, str | None]:
        """(key that signs the user JWT, the target account key or None in config mode)."""
        if not self.operator_mode:
            return self.issuer, None
        key = self.account_names.get(account, account)
        callout_account = self.issuer_account or self.issuer.public_key
        if key == callout_account:
            return self.issuer, key
        signer = self.accounts.get(key)
        if signer is None:
            raise CalloutError(f"no signing key for target account {account!r}")
        return signer, key


class CalloutService:
    """Answer authorization requests on `nc` with `authorizer`'s decisions."""

    def __init__(
        self,
        nc: Any,
        service_keys: ServiceKeys,
        authorizer: Authorizer,
        *,
        queue: str = "nscpy.callout",
        timeout: float = 2.0,
        max_concurrency: int = 64,
    ) -> None:
        self.nc = nc
        self.keys = service_keys
        self.authorizer = authorizer
        self.queue = queue
        self.timeout = timeout
        self.counters: Counter[str] = Counter()
        """Outcomes: allowed, rejected, failed (authorizer raised or timed out), invalid."""
        self._slots = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sub: Any = None

    async def start(self) -> None:
        """Subscribe to the callout subject in the queue group."""
        self._sub = await self.nc.subscribe(CALLOUT_SUBJECT, queue=self.queue, cb=self._on_msg)
        await self.nc.flush()

    async def stop(self) -> None:
        """Stop taking requests and finish the ones in flight."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _on_msg(self, msg: Any) -> None:
        await self._slots.acquire()  # back-pressure: the subscription waits for a free slot
        task = asyncio.ensure_future(self._handle(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, msg: Any) -> None:
        try:
            reply = msg.reply
            if not reply:
                self.counters["invalid"] += 1
                log.warning("auth request without a reply subject dropped")
                return
            response = await self.answer(msg.data, msg.headers)
            if response is not None:
                await self.nc.publish(reply, response)
        except Exception:  # the service must outlive anything one request does
            self.counters["failed"] += 1
            log.exception("auth request handling failed")
        finally:
            self._slots.release()

    async def answer(self, payload: bytes, headers: dict[str, str] | None) -> bytes | None:
        """The response bytes for one request message, or None when it cannot be answered."""
        try:
            request = read_request(payload, headers, xkey=self.keys.xkey, now=int(time.time()))
        except CalloutError as exc:
            self.counters["invalid"] += 1
            log.warning("auth request refused: %s", exc)
            return None
        decision = await self._decide(request)
        who = _describe(request)
        now = int(time.time())
        if isinstance(decision, Allow):
            try:
                signer, account_key = self.keys.signer_for(decision.account)
                scoped = signer.public_key in self.keys.scoped
                user_jwt = issue_user(
                    request, decision, signer, account_key=account_key, iat=now, scoped=scoped
                )
            except (CalloutError, ValueError) as exc:
                decision = _Failed(f"cannot issue the user: {exc}")
            else:
                self.counters["allowed"] += 1
                log.info("allow %s -> account %s", who, decision.account)
                return self._respond(request, user_jwt=user_jwt, iat=now)
        self.counters["failed" if isinstance(decision, _Failed) else "rejected"] += 1
        log.info("reject %s: %s", who, decision.reason)
        return self._respond(request, error=decision.reason, iat=now)

    def _respond(
        self, request: AuthRequest, *, iat: int, user_jwt: str = "", error: str = ""
    ) -> bytes:
        return build_response(
            request,
            self.keys.issuer,
            user_jwt=user_jwt,
            error=error,
            issuer_account=self.keys.issuer_account if self.keys.operator_mode else "",
            xkey=self.keys.xkey,
            iat=iat,
        )

    async def _decide(self, request: AuthRequest) -> Decision:
        try:
            if inspect.iscoroutinefunction(self.authorizer):
                result = await asyncio.wait_for(self.authorizer(request), self.timeout)
            else:
                # a plain function may block (LDAP, files): run it off the loop, bounded alike
                result = await asyncio.wait_for(
                    asyncio.to_thread(self.authorizer, request), self.timeout
                )
                if inspect.isawaitable(result):
                    result = await asyncio.wait_for(result, self.timeout)
        except asyncio.TimeoutError:
            log.warning("authorizer timed out after %ss for %s", self.timeout, _describe(request))
            return _Failed("authorizer timed out")
        except Exception as exc:
            # one line per decision; the traceback only for those who ask (DEBUG)
            log.error(
                "authorizer raised %s: %s, for %s", type(exc).__name__, exc, _describe(request)
            )
            log.debug("authorizer traceback", exc_info=True)
            return _Failed(f"authorizer failed: {type(exc).__name__}")
        if not isinstance(result, (Allow, Reject)):
            log.error("authorizer returned %r, not Allow or Reject", type(result).__name__)
            return _Failed("authorizer returned no decision")
        return result


class _Failed(Reject):
    """A rejection because the authorizer (or issuing) failed, counted apart from refusals."""


def _describe(request: AuthRequest) -> str:
    info = request.claims.client_info
    who = request.user or ("token" if request.token else "") or request.claims.connect_opts.nkey
    return f"client {info.id} from {info.host} ({who or 'anonymous'})"
