"""Auth callout set-ups shared by the e2e tests: config mode and operator mode, on either server.

A World knows how to write the server config, how the service connects and signs, and how a
client connects (operator mode needs a sentinel user JWT of the callout account beside the
credentials the authorizer sees).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats

from nscpy import jwt, keys
from nscpy.callout import Authorizer, CalloutService, ServiceKeys
from nscpy.callout.usermap import parse_user_map
from tests.server_stub.chain import Chain, Creds

MAP = """
[[users]]
user = "alice"
password = "s3cret"
account = "ORDERS"
allow_pub = ["orders.>"]
deny_pub = ["orders.secret"]
allow_sub = ["orders.>", "_INBOX.>"]
expiry = "1h"

[[users]]
token = "t0ken"
account = "ORDERS"
allow_pub = ["billing.>"]
allow_sub = ["billing.>", "_INBOX.>"]
"""


def user_map() -> Authorizer:
    """The authorizer most tests use: the built-in --map over MAP."""
    return parse_user_map(MAP)


@dataclass
class TLSFiles:
    """A CA, a server certificate and a client certificate (trustme)."""

    ca: Path
    cert: Path
    key: Path
    client_chain: Path
    client_subject: str

    def conf(self) -> str:
        return (
            f'tls {{ cert_file: "{self.cert}", key_file: "{self.key}",'
            f' ca_file: "{self.ca}", verify: true, timeout: 2 }}\n'
        )

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(str(self.client_chain))
        return ctx


def make_tls(tmp: Path) -> TLSFiles:
    import trustme
    from cryptography import x509

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("alice@example.org", common_name="alice-cert")
    paths = {name: tmp / f"{name}.pem" for name in ("ca", "cert", "key", "client")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    server.private_key_pem.write_to_path(str(paths["key"]))
    client.private_key_and_cert_chain_pem.write_to_path(str(paths["client"]))
    leaf = x509.load_pem_x509_certificate(client.cert_chain_pems[0].bytes())
    subject = leaf.subject.rfc4514_string()
    return TLSFiles(paths["ca"], paths["cert"], paths["key"], paths["client"], subject)


@dataclass
class World:
    """One callout set-up: config mode or operator mode, with or without xkey and mTLS."""

    mode: str
    tmp: Path
    xkey: keys.CurveKeyPair | None = None
    tls: TLSFiles | None = None
    issuer: keys.KeyPair = field(default_factory=lambda: keys.create_pair(keys.Prefix.ACCOUNT))
    chain: Chain | None = None
    service_creds: Creds | None = None
    sentinel: Creds | None = None

    def __post_init__(self) -> None:
        if self.mode == "operator":
            self.chain = Chain.create(self.tmp, "AUTH", "ORDERS")
            self.service_creds = self.chain.user("AUTH", name="callout-service")
            self.sentinel = self.chain.user("AUTH", _sentinel, name="sentinel")

    # --- server config ---------------------------------------------------------------------

    def config(self) -> Path:
        tls = self.tls.conf() if self.tls is not None else ""
        if self.mode == "config":
            xkey = f"    xkey: {self.xkey.public_key}\n" if self.xkey else ""
            path = self.tmp / "callout-config.conf"
            path.write_text(
                "accounts {\n"
                "  AUTH { users: [ { user: auth, password: auth } ] }\n"
                "  ORDERS { }\n"
                "}\n"
                "authorization {\n"
                "  auth_callout {\n"
                f"    issuer: {self.issuer.public_key}\n"
                "    auth_users: [ auth ]\n"
                "    account: AUTH\n"
                f"{xkey}"
                "  }\n"
                "}\n" + tls
            )
            return path
        chain = self.chain
        assert chain is not None and self.service_creds is not None
        service_key = self.service_creds.public_key

        def callout(claims: jwt.AccountClaims) -> None:
            claims.authorization.auth_users = [service_key]
            claims.authorization.allowed_accounts = [chain.pub("ORDERS")]
            if self.xkey is not None:
                claims.authorization.xkey = self.xkey.public_key

        chain.edits["AUTH"] = [callout]
        return chain.config("callout-operator", extra=tls)

    # --- the service -------------------------------------------------------------------------

    def service_keys(self) -> ServiceKeys:
        if self.mode == "config":
            return ServiceKeys(self.issuer, xkey=self.xkey)
        chain = self.chain
        assert chain is not None
        return ServiceKeys(
            chain.accounts["AUTH"],
            issuer_account=chain.pub("AUTH"),
            operator_mode=True,
            accounts={chain.pub("ORDERS"): chain.accounts["ORDERS"]},
            account_names={"ORDERS": chain.pub("ORDERS"), "AUTH": chain.pub("AUTH")},
            xkey=self.xkey,
        )

    def service_options(self) -> dict[str, Any]:
        opts = self._tls_options()
        if self.mode == "config":
            return {"user": "auth", "password": "auth", **opts}
        assert self.service_creds is not None
        return {"user_credentials": str(self.service_creds.path), **opts}

    @contextlib.asynccontextmanager
    async def service(
        self, url: str, authorizer: Authorizer | None = None, **kwargs: Any
    ) -> AsyncIterator[CalloutService]:
        """A running CalloutService connected as the auth user."""
        nc = await nats.connect(url, allow_reconnect=False, **self.service_options())
        service = CalloutService(nc, self.service_keys(), authorizer or user_map(), **kwargs)
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
            await nc.close()

    # --- clients -----------------------------------------------------------------------------

    def _tls_options(self) -> dict[str, Any]:
        return {"tls": self.tls.client_context()} if self.tls is not None else {}

    def client_options(self, **creds: Any) -> dict[str, Any]:
        """nats.connect kwargs: the credentials, plus the sentinel JWT in operator mode."""
        opts = {"allow_reconnect": False, "max_reconnect_attempts": 0, **self._tls_options()}
        if self.mode == "operator":
            assert self.sentinel is not None
            opts["user_credentials"] = str(self.sentinel.path)
        return {**opts, **creds}


def _sentinel(claims: jwt.UserClaims) -> None:
    # the usual callout sentinel: a bearer JWT that may do nothing by itself
    claims.bearer_token = True
    claims.tags = ["team:ops"]  # the request carries them (client_info.tags)
    claims.pub.deny = [">"]
    claims.sub.deny = [">"]
