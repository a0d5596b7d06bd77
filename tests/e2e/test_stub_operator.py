"""Operator mode, differential: the same JWTs and CONNECTs on nats-server and on the stub.

Both servers run from one config (memory resolver, accounts preloaded); every scenario runs on
both at once and compares the bytes the client got after INFO (INFO lines removed: they carry
ids) or what nats-py observed. Each test is self-contained.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from nscpy import jwt, keys
from tests.server_stub.chain import Chain, Creds, allow
from tests.server_stub.harness import jwt_session, real_server, run, stub_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

NOW = int(time.time())
T0 = NOW - 100  # revocation time used by the APP account
REVOKED = keys.create_pair(keys.Prefix.USER)
SCOPED = keys.create_pair(keys.Prefix.ACCOUNT)
OTHER_OPERATOR = keys.create_pair(keys.Prefix.OPERATOR)


def _app(claims: jwt.AccountClaims) -> None:
    claims.tags = ["env:prod"]
    claims.revoke(REVOKED.public_key, T0)
    template = jwt.UserPermissionLimits(subs=-1, data=-1, payload=-1)
    template.pub = allow(
        "{{account-name()}}.{{name()}}.>", "t.{{tag(team)}}", "acct.{{account-tag(env)}}"
    )
    template.pub.allow.append("t.{{tag(nope)}}")  # a missing tag drops an allow entry
    template.pub.deny = ["{{account-name()}}.{{name()}}.secret"]
    template.sub = allow("_INBOX.>", "u.{{subject()}}")
    claims.signing_keys.add_scoped(
        jwt.UserScope(key=SCOPED.public_key, role="r", template=template)
    )


def _everyone_revoked(claims: jwt.AccountClaims) -> None:
    claims.revoke(jwt.ALL, T0)


def _deny_missing_tag(claims: jwt.AccountClaims) -> None:
    template = jwt.UserPermissionLimits(subs=-1, data=-1, payload=-1)
    template.pub.deny = ["t.{{tag(nope)}}"]  # cannot be expanded: the user is refused
    claims.signing_keys.add_scoped(jwt.UserScope(key=SCOPED.public_key, template=template))


def _defaults(claims: jwt.AccountClaims) -> None:
    claims.default_permissions.pub = allow("def.>")
    claims.default_permissions.sub = allow("def.>")


def _no_bearer(claims: jwt.AccountClaims) -> None:
    claims.limits.disallow_bearer = True


def _expired(claims: jwt.AccountClaims) -> None:
    claims.expires = NOW - 10


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Chain:
    c = Chain.create(
        tmp_path_factory.mktemp("op"), "APP", "ALL", "DEF", "NOBEARER", "EXP", "FOREIGN"
    )
    c.edits = {"APP": [_app], "ALL": [_everyone_revoked], "DEF": [_defaults]}
    c.edits["NOBEARER"] = [_no_bearer, _deny_missing_tag]
    c.edits["EXP"] = [_expired]
    c.accounts["GHOST"] = keys.create_pair(keys.Prefix.ACCOUNT)  # never preloaded
    return c


@pytest.fixture(scope="module")
def urls(chain) -> Iterator[tuple[str, str]]:
    foreign = chain.account_jwt("FOREIGN", signer=OTHER_OPERATOR)
    names = ["APP", "ALL", "DEF", "NOBEARER", "EXP"]
    conf = chain.config("mem", preload=names, jwts={chain.pub("FOREIGN"): foreign})
    with real_server(conf) as real, stub_server(conf) as stub:
        yield real, stub


def both(urls: tuple[str, str], fn: Callable[[str], Any]) -> None:
    """Run fn on both servers at once; their outcomes must be equal."""

    async def go() -> list[Any]:
        return list(await asyncio.gather(fn(urls[0]), fn(urls[1])))

    real, stub = run(go())
    gc.collect()
    assert real == stub, f"\nnats-server {real!r}\nstub        {stub!r}"


def _expire_in(seconds: int) -> Callable[[jwt.UserClaims], None]:
    return lambda u: setattr(u, "expires", int(time.time()) + seconds)


def _perm(
    pub: list[str] | None = None, sub: list[str] | None = None, deny: list[str] | None = None
):
    def edit(u: jwt.UserClaims) -> None:
        if pub is not None:
            u.pub = allow(*pub)
        if sub is not None:
            u.sub = allow(*sub)
        if deny is not None:
            u.pub.deny = deny

    return edit


def _set(**values: Any) -> Callable[[jwt.UserClaims], None]:
    def edit(u: jwt.UserClaims) -> None:
        for k, v in values.items():
            setattr(u, k, v)

    return edit


def _window(offset_start: int, offset_end: int) -> Callable[[jwt.UserClaims], None]:
    def edit(u: jwt.UserClaims) -> None:
        def hms(t: float) -> str:
            return time.strftime("%H:%M:%S", time.gmtime(t))

        now = time.time()
        u.times = [jwt.TimeRange(hms(now + offset_start), hms(now + offset_end))]
        u.times_location = "Etc/UTC"

    return edit


PUB = [b"SUB > 1\r\n", b"PUB hello 2\r\nhi\r\n"]

# name -> (account, user edits, user kwargs, session kwargs, chunks)
SCENARIOS: dict[str, tuple[str, list[Any], dict[str, Any], dict[str, Any], list[bytes]]] = {
    "std_base64_sig": ("APP", [], {}, {}, PUB),
    "rawurl_sig": ("APP", [], {}, {"sig": "url"}, PUB),
    "bad_sig": ("APP", [], {}, {"sig": "bad"}, []),
    "no_sig": ("APP", [], {}, {"sig": "none"}, []),
    "no_jwt_user_pass": (
        "APP",
        [],
        {},
        {"sig": "none", "connect": {"jwt": None, "user": "a", "pass": "b"}},
        [],
    ),
    "unknown_account": ("GHOST", [], {}, {}, []),
    "foreign_operator_account": ("FOREIGN", [], {}, {}, []),
    "expired_account": ("EXP", [], {}, {}, []),
    "expired_user": ("APP", [_set(expires=NOW - 5)], {}, {}, []),
    "user_not_yet_valid": ("APP", [_set(not_before=NOW + 3600)], {}, {}, []),
    "revoked_iat_before": ("APP", [], {"iat": T0 - 10, "kp": REVOKED}, {}, []),
    "revoked_iat_equal": ("APP", [], {"iat": T0, "kp": REVOKED}, {}, []),
    "reissued_after_revocation": ("APP", [], {"iat": T0 + 10, "kp": REVOKED}, {}, PUB),
    "all_revoked_before": ("ALL", [], {"iat": T0 - 1}, {}, []),
    "all_revoked_after": ("ALL", [], {"iat": T0 + 1}, {}, PUB),
    "signing_key_with_issuer_account": ("APP", [], {"signer": "plain"}, {}, PUB),
    "signing_key_without_issuer_account": (
        "APP",
        [],
        {"signer": "plain", "issuer_account": False},
        {},
        [],
    ),
    "scoped_template": (
        "APP",
        [_set(tags=["team:red", "team:blue"])],
        {"signer": "scoped", "name": "bob"},
        {},
        [
            b"PUB APP.bob.x 0\r\n\r\n",
            b"PUB APP.bob.secret 0\r\n\r\n",
            b"PUB APP.eve.x 0\r\n\r\n",
            b"PUB t.red 0\r\n\r\n",
            b"PUB t.blue 0\r\n\r\n",
            b"PUB t.green 0\r\n\r\n",
            b"PUB acct.prod 0\r\n\r\n",
            b"SUB _INBOX.x 1\r\n",
            b"SUB other 2\r\n",
        ],
    ),
    "scoped_deny_names_missing_tag": ("NOBEARER", [], {"signer": "scoped"}, {}, []),
    "scoped_user_with_permissions": ("APP", [_perm(pub=["x"])], {"signer": "scoped"}, {}, []),
    "bearer_without_sig": ("APP", [_set(bearer_token=True)], {}, {"sig": "none"}, PUB),
    "bearer_disallowed": ("NOBEARER", [_set(bearer_token=True)], {}, {"sig": "none"}, []),
    "src_outside": ("APP", [_set(src=["10.0.0.0/8"])], {}, {}, []),
    "src_inside": ("APP", [_set(src=["10.0.0.0/8", "127.0.0.0/8"])], {}, {}, PUB),
    "conn_type_websocket_only": ("APP", [_set(allowed_connection_types=["WEBSOCKET"])], {}, {}, []),
    "conn_type_standard": ("APP", [_set(allowed_connection_types=["STANDARD"])], {}, {}, PUB),
    "outside_time_window": ("APP", [_window(3600, 7200)], {}, {}, []),
    "inside_time_window": ("APP", [_window(-3600, 3600)], {}, {}, PUB),
    "account_default_permissions": (
        "DEF",
        [],
        {},
        {},
        [b"SUB def.> 1\r\n", b"PUB def.a 0\r\n\r\n", b"PUB other 0\r\n\r\n", b"SUB x 2\r\n"],
    ),
    "user_permissions_over_defaults": (
        "DEF",
        [_perm(pub=["mine.>"], deny=["mine.no"])],
        {},
        {},
        [b"SUB > 1\r\n", b"PUB def.a 0\r\n\r\n", b"PUB mine.a 0\r\n\r\n", b"PUB mine.no 0\r\n\r\n"],
    ),
    "user_payload_limit": (
        "APP",
        [_set(payload=4)],
        {},
        {},
        [b"PUB a 4\r\nabcd\r\n", b"PUB a 5\r\nabcde\r\n"],
    ),
    "user_subs_limit": ("APP", [_set(subs=1)], {}, {}, [b"SUB a 1\r\n", b"SUB b 2\r\n"]),
    "verbose_connect": ("APP", [], {}, {"connect": {"verbose": True}}, [b"SUB a 1\r\n"]),
}


def _mint(chain: Chain, account: str, edits: list[Any], kw: dict[str, Any]) -> Creds:
    kw = dict(kw)
    signer = kw.pop("signer", None)
    if signer == "plain":
        kw["signer"] = chain.signers[account]
    elif signer == "scoped":
        kw["signer"] = SCOPED
        kw["scoped"] = True
    kp = kw.pop("kp", None)
    creds = chain.user(account, *edits, **kw)
    if kp is not None:  # re-sign the same claims for a fixed user key
        claims = jwt.decode(creds.jwt)
        assert isinstance(claims, jwt.UserClaims)
        claims.subject = kp.public_key
        token = jwt.encode(claims, chain.accounts[account], iat=claims.issued_at)
        creds = Creds(token, kp)
    return creds


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_connect(chain, urls, name) -> None:
    account, edits, kw, session, chunks = SCENARIOS[name]
    creds = _mint(chain, account, edits, kw)
    connect = dict(session.get("connect", {}))
    user_jwt: str | None = creds.jwt
    if "jwt" in connect:
        user_jwt = connect.pop("jwt")
    both(
        urls,
        lambda url: jwt_session(
            url, user_jwt, creds.kp, chunks, sig=session.get("sig", "std"), connect=connect
        ),
    )


def test_user_expiry_disconnects_at_exp(chain, urls) -> None:
    creds = chain.user("APP", _expire_in(2))

    async def session(url: str) -> bytes:
        out = await jwt_session(url, creds.jwt, creds.kp, [], quiet=3.5, max_wait=3.5)
        return out.replace(b"PING\r\n", b"")  # the servers' RTT probes differ in timing

    both(urls, session)


async def _conn_limit(url: str, chain: Chain, creds: Creds) -> list[str]:
    out = []
    first = await nats.connect(url, user_credentials=str(creds.path))
    try:
        await nats.connect(
            url, user_credentials=str(creds.path), max_reconnect_attempts=0, allow_reconnect=False
        )
        out.append("second accepted")
    except Exception as exc:  # nats-py's refusal is the observed outcome
        out.append(f"{type(exc).__name__}: {exc}")
    await first.close()
    return out


def test_account_connection_limit(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP")
    chain.edits["APP"] = [lambda c: setattr(c.limits, "conn", 1)]
    conf = chain.config("conn")
    creds = chain.user("APP")
    with real_server(conf) as real, stub_server(conf) as stub:
        both((real, stub), lambda url: _conn_limit(url, chain, creds))


def test_strict_operator(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP", "SELF", strict=True)
    self_signed = chain.account_jwt("SELF", signer=chain.operator)
    conf = chain.config("strict", jwts={chain.pub("SELF"): self_signed})
    cases = [
        ("APP", {"signer": chain.signers["APP"]}),  # user by the account signing key
        ("APP", {}),  # user by the account identity key: refused under strict
        ("SELF", {}),  # account signed by the operator identity key: untrusted
    ]
    users = [chain.user(acc, **kw) for acc, kw in cases]

    async def go(url: str) -> list[bytes]:
        return [await jwt_session(url, u.jwt, u.kp, PUB) for u in users]

    with real_server(conf) as real, stub_server(conf) as stub:
        both((real, stub), go)


def test_config_errors(tmp_path: Path) -> None:
    from server_stub.config import load
    from server_stub.errors import ConfigError

    chain = Chain.create(tmp_path)
    conf = chain.config("bad", extra="accounts { A {} }\n")
    with pytest.raises(ConfigError, match="operator mode takes users from JWTs"):
        load(conf)
    (tmp_path / "r.conf").write_text(f'operator: "{tmp_path}/none.jwt"\nresolver: MEMORY\n')
    with pytest.raises(ConfigError, match="cannot read operator JWT"):
        load(tmp_path / "r.conf")
