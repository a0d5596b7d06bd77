"""Operator mode: trusted operators, the account resolver, and user JWT authentication.

Theory of operation. The config names one or more operator JWTs and a resolver. An account JWT
is trusted when one of those operators signed it (identity key unless strict, or a signing key).
Accounts load lazily, like nats-server: on the first CONNECT of one of their users (the system
account at start-up). A loaded account lives in `loaded` and in the router, with its limits and
imports; a pushed update replaces it live: revoked users are closed with 'User Authentication
Revoked', the others get permissions and limits recomputed from the new JWT.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import jwt
from nscpy.jwt.revocations import is_revoked
from server_stub import errors
from server_stub.auth import ConnectionInfo, Identity
from server_stub.callout import operator_callout
from server_stub.configpaths import config_path, read_config_file
from server_stub.confparse import ConfMap
from server_stub.errors import AuthError, ConfigError
from server_stub.hooks import ServiceHost
from server_stub.jwtaccounts import next_activation_expiry, set_limits, wire_imports
from server_stub.jwtauth import authenticate_user, expand_template, grant_for
from server_stub.resolver import AccountStore, ClaimsError, ResolverService
from server_stub.router import Account

log = logging.getLogger("server_stub")

ACCOUNT_CONNECTIONS = "maximum account active connections exceeded"
_RESOLVER_KEYS = {"type", "dir", "allow_delete", "interval", "timeout", "limit", "sync", "ttl"}
# Accepted with no effect, as on a single nats-server: peer sync (interval, sync) and waits for
# peers' answers (timeout, ttl) need other servers, and the stub has none.
SINGLE_SERVER_RESOLVER_KEYS = {"interval", "sync", "timeout", "ttl"}


@dataclass
class ResolverConfig:
    """The `resolver` setting: MEMORY, or a full resolver with a directory."""

    kind: str = "MEMORY"
    directory: Path | None = None
    allow_delete: bool = False


@dataclass
class OperatorSettings:
    """Everything operator mode needs from the config."""

    operators: list[jwt.OperatorClaims]
    system_account: str
    resolver: ResolverConfig
    preload: dict[str, str] = field(default_factory=dict)


def _operator(value: Any, where: str) -> jwt.OperatorClaims:
    text = str(value).strip()
    if not text.startswith("eyJ"):
        text = read_config_file(text, "operator JWT", where)
        if "BEGIN" in text:
            text = jwt.parse_decorated_jwt(text)
        text = text.strip()
    try:
        return jwt.decode_operator(text)
    except jwt.WrongKind as exc:
        raise ConfigError(f"{where}: expected an operator JWT, got a {exc.actual} JWT") from None
    except jwt.JWTError as exc:
        raise ConfigError(f"{where}: operator JWT does not decode: {exc}") from None


def _resolver(conf: ConfMap) -> ResolverConfig:
    value = conf.get("resolver", "MEMORY")
    where = conf.where("resolver") if "resolver" in conf else conf.source
    if isinstance(value, str):
        if value.upper() == "MEMORY":
            return ResolverConfig()
        raise ConfigError(
            f"{where}: resolver {value!r} is not supported (MEMORY or {{type: full}})"
        )
    if not isinstance(value, ConfMap):
        raise ConfigError(f"{where}: resolver must be MEMORY or a map, got {value!r}")
    for key in value:
        if key not in _RESOLVER_KEYS:
            raise ConfigError(f"{value.where(key)}: unknown resolver option {key!r}")
    if "limit" in value:  # nats-server caps the number of stored JWTs; the stub does not
        raise ConfigError(f"{value.where('limit')}: resolver limit is not supported by server_stub")
    kind = str(value.get("type", "full")).lower()
    if kind not in ("full", "cache"):
        raise ConfigError(f"{where}: resolver type {kind!r} is not supported (full or cache)")
    # nats-server makes it in its working directory, whatever the config file's
    directory = config_path(value.get("dir", "./jwt"))
    return ResolverConfig(kind, directory, bool(value.get("allow_delete", False)))


def settings(conf: ConfMap) -> OperatorSettings:
    """Read operator, system_account, resolver and resolver_preload."""
    key = "operator" if "operator" in conf else "operators"
    if key not in conf:
        given = "resolver" if "resolver" in conf else "resolver_preload"
        raise ConfigError(f"{conf.where(given)}: {given} needs an operator JWT")
    raw = conf[key]
    values = raw if isinstance(raw, list) else [raw]
    operators = [_operator(v, conf.where(key)) for v in values]
    system = str(conf.get("system_account", operators[0].system_account))
    preload: dict[str, str] = {}
    if "resolver_preload" in conf:
        block = conf["resolver_preload"]
        if not isinstance(block, ConfMap):
            raise ConfigError(f"{conf.where('resolver_preload')}: resolver_preload must be a map")
        preload = {str(k): str(v).strip() for k, v in block.items()}
    return OperatorSettings(operators, system, _resolver(conf), preload)


def build_operator(conf: ConfMap) -> OperatorAuth:
    """The authenticator for an operator-mode config."""
    return OperatorAuth(settings(conf))


def _go_error(exc: jwt.JWTError) -> str:
    # the Go library's wording, which nats-server puts in its replies
    text = str(exc)
    if "3 parts" in text:
        return "expected 3 chunks"
    if isinstance(exc, jwt.UnexpectedIssuer | jwt.MalformedToken) and "account" in text:
        return "not account claim"
    return text


class OperatorAuth:
    """Authenticator (and resolver owner) for operator mode."""

    auth_required = True
    needs_nonce = True
    no_auth_user: str | None = (
        None  # nats-server: no_auth_user "is not compatible with Trusted Operator"
    )

    def __init__(self, config: OperatorSettings) -> None:
        self.config = config
        self.operators = config.operators
        self.system_account = config.system_account
        res = config.resolver
        self.store = AccountStore(res.directory, res.allow_delete)
        for account, token in config.preload.items():
            if res.directory is None or self.store.get(account) is None:
                self.store.put(account, token)
        self.loaded: dict[str, jwt.AccountClaims] = {}
        self.server: ServiceHost | None = None
        self._expiry_timers: dict[str, Any] = {}  # account -> timer closing its users at exp
        self._rewire_timer: Any = None  # fires when the next activation token expires

    # --- trust -------------------------------------------------------------------------------

    def _signer(self, claims: jwt.AccountClaims) -> jwt.OperatorClaims | None:
        for op in self.operators:
            if op.did_sign(claims):
                return op
        return None

    def strict_issued(self, claims: jwt.AccountClaims) -> bool:
        """True when a strict operator's signing key issued the account (see signer_scope)."""
        op = self._signer(claims)
        return op is not None and op.strict_signing_key_usage and claims.issuer != op.subject

    def _decode_account(self, token: str) -> jwt.AccountClaims | None:
        try:
            claims = jwt.decode_account(token)
        except jwt.WrongKind:
            return None
        except jwt.JWTError as exc:
            log.info("stored account JWT does not decode: %s", exc)
            return None
        return claims if self._signer(claims) is not None else None

    def account(self, account: str) -> jwt.AccountClaims | None:
        """The loaded account, loading it (and what it imports from) on first use."""
        claims = self.loaded.get(account)
        if claims is not None:
            return claims
        token = self.store.get(account)
        if token is None:
            return None
        claims = self._decode_account(token)
        if claims is None:
            return None
        self.loaded[account] = claims
        for imp in claims.imports:
            if imp.account not in self.loaded:
                self.account(imp.account)
        self._install(claims)
        return claims

    def _install(self, claims: jwt.AccountClaims) -> None:
        if self.server is None:
            return
        router = self.server.router
        set_limits(router.account(claims.subject), claims, claims.subject == self.system_account)
        self._rewire()
        self._schedule_expiry(claims)
        self.server.account_changed(claims.subject)

    # --- timers: account exp and activation exp while users are connected ----------------------

    def _host(self) -> ServiceHost:
        assert self.server is not None, "operator mode's timers and updates start at attach()"
        return self.server

    def _rewire(self) -> None:
        """Wire imports as of now, and again when the next activation token expires."""
        now = time.time()
        wire_imports(self._host().router, self.loaded, int(now))
        if self._rewire_timer is not None:
            self._rewire_timer.cancel()
            self._rewire_timer = None
        soonest = next_activation_expiry(self.loaded, int(now))
        if soonest is not None:
            # nats-server drops an import whose activation expires; its users stay connected
            self._rewire_timer = self._host().call_later(soonest - now + 0.01, self._rewire)

    def _schedule_expiry(self, claims: jwt.AccountClaims) -> None:
        old = self._expiry_timers.pop(claims.subject, None)
        if old is not None:
            old.cancel()
        if claims.expires:
            delay = claims.expires - time.time()
            name = claims.subject
            self._expiry_timers[name] = self._host().call_later(
                delay, lambda: self._close_users(name)
            )

    def _close_users(self, account: str) -> None:
        """Close every user of an expired (or deleted) account, as nats-server does."""
        self._expiry_timers.pop(account, None)
        server = self._host()
        for client in server.clients_of(server.router.account(account)):
            client.fail(errors.ACCOUNT_EXPIRED)

    # --- server hooks ------------------------------------------------------------------------

    def attach(self, server: ServiceHost) -> None:
        """Called at start-up: load the system account and answer the claims API."""
        self.server = server
        for claims in self.loaded.values():
            self._install(claims)
        self.account(self.system_account)
        server.router.account(self.system_account).is_system = True
        service = ResolverService(server, self.store, self.system_account)
        service.attach(self.update, self.delete)
        server.services.append(service)

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """Decode the CONNECT jwt, find its account and check the user against it."""
        token = options.get("jwt")
        if not isinstance(token, str) or not token:
            raise AuthError("operator mode needs a user JWT")
        try:
            user = jwt.decode_user(token)
        except jwt.WrongKind as exc:
            raise AuthError(f"expected a user JWT, got {exc.actual}") from None
        except jwt.JWTError as exc:
            raise AuthError(f"user JWT does not decode: {exc}") from None
        account_id = user.issuer_account or user.issuer
        claims = self.account(account_id)
        if claims is None:
            raise AuthError(f"account {account_id} is unknown or not trusted")
        callout = operator_callout(user, claims, self.account, info.now)
        if callout is not None:  # the account delegates its users to an auth callout service
            raise callout
        return authenticate_user(
            user, claims, options, info, strict_issued=self.strict_issued(claims)
        )

    def admit(self, identity: Identity, account: Account, connected: int) -> None:
        """Account-wide limits checked once the user is known: active connections."""
        limit = account.max_conns
        if 0 <= limit <= connected:
            raise AuthError(
                f"account {account.name} has {connected} connections", ACCOUNT_CONNECTIONS
            )

    # --- updates -----------------------------------------------------------------------------

    def update(self, token: str, in_subject: str | None) -> tuple[str, str]:
        """Apply a pushed account JWT; (account, message) or ClaimsError as nats-server words it."""
        try:
            claims = jwt.decode_account(token)
        except jwt.WrongKind:
            raise ClaimsError("jwt update resulted in error - not account claim") from None
        except jwt.JWTError as exc:
            raise ClaimsError(f"jwt update resulted in error - {_go_error(exc)}") from None
        account = claims.subject
        if in_subject is not None and in_subject != account:
            raise ClaimsError(
                "jwt update resulted in error - subject does not match jwt content", in_subject
            )
        results = jwt.ValidationResults()
        claims.validate(results, now=int(time.time()))
        if results.is_blocking():
            issues = ", ".join(results.errors())
            raise ClaimsError(f"jwt validation failed - validation errors: {issues}", account)
        op = self._signer(claims)
        if any(o.strict_signing_key_usage for o in self.operators) and (
            op is None or claims.issuer == op.subject
        ):
            raise ClaimsError(
                "jwt update resulted in error - operator requires issuer to be a signing key",
                account,
            )
        if not self.store.full:
            if account not in self.loaded:
                return account, "jwt update skipped"
            self.store.put(account, token)
        else:
            self.store.put(account, token)
        if account in self.loaded and op is not None:
            self.refresh(claims, self.loaded[account])
            self.loaded[account] = claims
            self._install(claims)
        return account, "jwt updated"

    def delete(self, token: str) -> list[str]:
        """A delete request: generic JWT from the operator listing data.accounts."""
        try:
            req = jwt.decode_generic(token)
        except jwt.JWTError as exc:
            raise ClaimsError(f"jwt delete resulted in error - {_go_error(exc)}", None) from None

        def refuse(reason: str) -> ClaimsError:
            return ClaimsError(f"delete accounts request by {req.issuer} failed - {reason}", None)

        if not any(req.issuer == o.subject or req.issuer in o.signing_keys for o in self.operators):
            raise refuse("not trusted")
        if not self.store.allow_delete:
            raise refuse("delete not enabled in server config")
        accounts = req.data.get("accounts")
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise refuse("malformed request")
        if self.system_account in accounts:
            raise refuse("not allowed to delete system account")
        for account in accounts:
            self.store.delete(account)
            if self.loaded.pop(account, None) is not None and self.server is not None:
                timer = self._expiry_timers.pop(account, None)
                if timer is not None:
                    timer.cancel()
                self._close_users(account)  # nats-server expires a deleted account
                gone = self.server.router.account(account)
                gone.claims = None
                self.server.router.clear_imports(gone)
                self.server.account_changed(account)
        if self.server is not None:
            self._rewire()
        return list(accounts)

    def refresh(self, claims: jwt.AccountClaims, old: jwt.AccountClaims) -> None:
        """Re-check connected users of an updated account: revoke, drop, or recompute grants."""
        server = self._host()
        account = server.router.account(claims.subject)
        for client in server.clients_of(account):
            identity = client.identity
            user = identity.claims if identity is not None else None
            if not isinstance(user, jwt.UserClaims):
                continue
            if is_revoked(claims.revocations, user.subject, user.issued_at):
                client.fail(errors.AUTH_REVOKED)
                continue
            if _signer_changed(user.issuer, old, claims):
                # nats-server closes users of a changed or removed signing key without an -ERR;
                # they reconnect and get what the new JWT says
                client.close()
                continue
            scope = claims.signing_keys.get_scope(user.issuer)
            limits = expand_template(scope.template, user, claims) if scope else user
            client.apply_grant(grant_for(limits, claims))


def _signer_changed(issuer: str, old: jwt.AccountClaims, new: jwt.AccountClaims) -> bool:
    if issuer == new.subject:
        return False
    if issuer not in new.signing_keys:
        return True
    before, after = old.signing_keys.get_scope(issuer), new.signing_keys.get_scope(issuer)
    if before is None or after is None:
        return before is not after
    return bool(before.to_json_dict() != after.to_json_dict())
