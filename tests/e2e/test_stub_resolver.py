"""Resolvers and live updates, differential: $SYS claims API, live revocation, scopes, imports.

Each test starts its own pair of servers (a full resolver writes to its own directory) and runs
the same nats-py story on both at once; the observed outcomes must be equal. Reply JSON is
compared with the `server` object reduced to its keys (ids and times differ by nature).
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import pytest

from nscpy import jwt, keys
from tests.server_stub.chain import Chain, allow
from tests.server_stub.harness import real_server, run, stub_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def both(confs: tuple[Path, Path], fn: Callable[[str, Path], Any]) -> tuple[Any, Any]:
    """Start nats-server on confs[0] and the stub on confs[1]; run fn on both; compare."""
    with real_server(confs[0]) as real, stub_server(confs[1]) as stub:

        async def go() -> list[Any]:
            return list(await asyncio.gather(fn(real, confs[0]), fn(stub, confs[1])))

        a, b = run(go(), timeout=40)
    gc.collect()
    assert a == b, f"\nnats-server {a!r}\nstub        {b!r}"
    return a, b


def norm(payload: bytes) -> Any:
    """A reply with its server object reduced to the sorted key list."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")
    if isinstance(doc, dict) and isinstance(doc.get("server"), dict):
        doc["server"] = sorted(doc["server"])
    return doc


async def request(nc: Any, subject: str, body: bytes = b"") -> Any:
    try:
        msg = await nc.request(subject, body, timeout=0.5)
    except Exception as exc:  # no responders / timeout are outcomes too
        return type(exc).__name__
    return norm(msg.data)


def pair(chain: Chain, name: str, **kw: Any) -> tuple[Path, Path]:
    return chain.config(f"{name}-real", **kw), chain.config(f"{name}-stub", **kw)


async def connect(url: str, creds: Any, **kw: Any) -> Any:
    return await nats.connect(
        url, user_credentials=str(creds.path), max_reconnect_attempts=0, allow_reconnect=False, **kw
    )


def test_full_resolver_claims_api(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP", "NEW")
    foreign = chain.account_jwt("NEW", signer=keys.create_pair(keys.Prefix.OPERATOR))
    new = chain.account_jwt("NEW")
    sys_user = chain.user("SYS")
    app_user = chain.user("APP")
    user_jwt = chain.user("APP").jwt
    delete_req = jwt.GenericClaims.new(chain.operator.public_key)
    delete_req.data = {"accounts": [chain.pub("NEW")]}
    delete_new = jwt.encode(delete_req, chain.operator, iat=int(time.time()))
    delete_req.data = {"accounts": [chain.pub("SYS")]}
    delete_sys = jwt.encode(delete_req, chain.operator, iat=int(time.time()))
    acct = f"$SYS.REQ.ACCOUNT.{chain.pub('NEW')}.CLAIMS"

    async def story(url: str, conf: Path) -> list[Any]:
        jwt_dir = Path(str(conf).removesuffix(".conf") + "-jwt")
        nc = await connect(url, sys_user)
        out = [await request(nc, "$SYS.REQ.CLAIMS.LIST")]
        out.append(await request(nc, "$SYS.REQ.CLAIMS.UPDATE", b"garbage"))
        out.append(await request(nc, "$SYS.REQ.CLAIMS.UPDATE", user_jwt.encode()))
        out.append(
            await request(nc, f"$SYS.REQ.ACCOUNT.{chain.pub('APP')}.CLAIMS.UPDATE", new.encode())
        )
        out.append(await request(nc, "$SYS.REQ.CLAIMS.UPDATE", foreign.encode()))
        out.append(await request(nc, f"{acct}.UPDATE", new.encode()))
        out.append((jwt_dir / f"{chain.pub('NEW')}.jwt").read_text() == new)
        out.append(await request(nc, f"{acct}.LOOKUP") == new)
        out.append(await request(nc, "$SYS.REQ.ACCOUNT.AUNKNOWN.CLAIMS.LOOKUP"))
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.publish("$SYS.REQ.CLAIMS.PACK", b"", reply=inbox)
        packed = []
        while True:
            msg = await sub.next_msg(timeout=1)
            if not msg.data:
                break
            key, _, token = msg.data.decode().partition("|")
            packed.append((key, jwt.decode(token).subject == key))
        out.append(sorted(packed))
        out.append(await request(nc, "$SYS.REQ.CLAIMS.DELETE", delete_sys.encode()))
        out.append(await request(nc, "$SYS.REQ.CLAIMS.DELETE", delete_new.encode()))
        out.append(
            sorted(p.name.split(".", 1)[1] for p in jwt_dir.iterdir() if "NEW" not in p.name)
        )
        out.append(await request(nc, "$SYS.REQ.CLAIMS.LIST"))
        app = await connect(url, app_user)
        out.append(await request(app, "$SYS.REQ.CLAIMS.LIST"))  # not the system account
        await app.close()
        await nc.close()
        return out

    both(pair(chain, "api", resolver="full", preload=["APP"]), story)


async def _watch(url: str, creds: Any) -> tuple[Any, list[str], asyncio.Event]:
    errors: list[str] = []
    closed = asyncio.Event()

    async def on_error(e: Exception) -> None:
        errors.append(str(e))

    async def on_closed() -> None:
        closed.set()

    nc = await connect(url, creds, error_cb=on_error, closed_cb=on_closed)
    return nc, errors, closed


@pytest.mark.parametrize("resolver", ["full", "MEMORY"])
def test_live_revocation(tmp_path, resolver) -> None:
    chain = Chain.create(tmp_path, "APP")
    victim, bystander, sys_user = chain.user("APP"), chain.user("APP"), chain.user("SYS")
    revoking = chain.account_jwt("APP", lambda c: c.revoke(victim.public_key, int(time.time())))
    plain = chain.account_jwt("APP")
    subject = f"$SYS.REQ.ACCOUNT.{chain.pub('APP')}.CLAIMS.UPDATE"

    async def story(url: str, conf: Path) -> list[Any]:
        sys_nc = await connect(url, sys_user)
        out = [await request(sys_nc, "$SYS.REQ.CLAIMS.UPDATE", plain.encode())]
        nc, _, closed = await _watch(url, victim)
        other = await connect(url, bystander)
        out.append(await request(sys_nc, subject, revoking.encode()))
        try:
            await asyncio.wait_for(closed.wait(), 2)
        except asyncio.TimeoutError:
            out.append("victim still connected")
        out.append(str(nc.last_error))
        out.append(other.is_connected)
        try:
            await connect(url, victim)
            out.append("victim reconnected")
        except Exception as exc:  # the refusal is the outcome
            out.append(str(exc))
        await other.close()
        await sys_nc.close()
        return out

    both(pair(chain, f"rev-{resolver}", resolver=resolver, preload=["APP"]), story)


def test_pushed_scope_and_limits_apply_live(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP")
    scoped = keys.create_pair(keys.Prefix.ACCOUNT)

    def scope(pub: str) -> Callable[[jwt.AccountClaims], None]:
        def edit(claims: jwt.AccountClaims) -> None:
            template = jwt.UserPermissionLimits(subs=-1, data=-1, payload=-1)
            template.pub = allow(pub + ".{{name()}}")
            claims.signing_keys.add_scoped(jwt.UserScope(key=scoped.public_key, template=template))

        return edit

    chain.edits["APP"] = [scope("a")]
    user = chain.user("APP", signer=scoped, name="bob", scoped=True)
    sys_user = chain.user("SYS")
    changed = chain.account_jwt("APP", scope("b"), iat=int(time.time()) + 1)

    async def story(url: str, conf: Path) -> list[Any]:
        nc, errors, _ = await _watch(url, user)
        for subject in ("a.bob", "b.bob"):
            await nc.publish(subject, b"")
        await nc.flush()
        sys_nc = await connect(url, sys_user)
        out = [await request(sys_nc, "$SYS.REQ.CLAIMS.UPDATE", changed.encode())]
        await asyncio.sleep(0.1)
        try:
            for subject in ("a.bob", "b.bob"):
                await nc.publish(subject, b"")
            await nc.flush()
        except nats.errors.ConnectionClosedError:
            out.append(f"closed: {nc.last_error}")
        await asyncio.sleep(0.1)
        out += [errors, nc.is_connected]
        await nc.close()
        nc, errors, _ = await _watch(url, user)  # back with the new scope
        for subject in ("a.bob", "b.bob"):
            await nc.publish(subject, b"")
        await nc.flush()
        await asyncio.sleep(0.1)
        out.append(errors)
        await nc.close()
        await sys_nc.close()
        return out

    both(pair(chain, "scope", resolver="full", preload=["APP"]), story)


def test_older_account_jwt_push(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP")
    user, sys_user = chain.user("APP"), chain.user("SYS")
    now = int(time.time())
    newer = chain.account_jwt("APP", lambda c: c.revoke(user.public_key, now), iat=now + 5)
    older = chain.account_jwt("APP", iat=now - 50)

    async def story(url: str, conf: Path) -> list[Any]:
        sys_nc = await connect(url, sys_user)
        out = []
        for token in (newer, older):
            out.append(await request(sys_nc, "$SYS.REQ.CLAIMS.UPDATE", token.encode()))
            try:
                nc = await connect(url, user)
                out.append("accepted")
                await nc.close()
            except Exception as exc:  # the refusal is the outcome
                out.append(str(exc))
        await sys_nc.close()
        return out

    both(pair(chain, "older", resolver="full", preload=["APP"]), story)


def test_memory_resolver_updates(tmp_path) -> None:
    chain = Chain.create(tmp_path, "APP", "LATER")
    sys_user, user = chain.user("SYS"), chain.user("APP")
    app = chain.account_jwt("APP", iat=int(time.time()) + 1)
    later = chain.account_jwt("LATER")

    async def story(url: str, conf: Path) -> list[Any]:
        nc = await connect(url, sys_user)
        out = [await request(nc, "$SYS.REQ.CLAIMS.UPDATE", app.encode())]
        subject = f"$SYS.REQ.ACCOUNT.{chain.pub('APP')}.CLAIMS.UPDATE"
        out.append(await request(nc, subject, app.encode()))  # not loaded yet: skipped
        user_nc = await connect(url, user)
        out.append(await request(nc, subject, app.encode()))
        subject = f"$SYS.REQ.ACCOUNT.{chain.pub('LATER')}.CLAIMS.UPDATE"
        out.append(await request(nc, subject, later.encode()))
        out.append(await request(nc, "$SYS.REQ.CLAIMS.LIST"))
        await user_nc.close()
        await nc.close()
        return out

    both(pair(chain, "mem", preload=["APP"]), story)


def test_exports_imports_and_activations(tmp_path) -> None:
    chain = Chain.create(tmp_path, "EXP", "IMP", "NOTOK")
    exp, imp = chain.pub("EXP"), chain.pub("IMP")

    def activation(kind: str, subject: str, signer: keys.KeyPair | None = None) -> str:
        act = jwt.ActivationClaims.new(imp)
        act.import_subject, act.import_type = subject, kind
        if signer is not None:
            act.issuer_account = exp
        return jwt.encode(act, signer or chain.accounts["EXP"], iat=int(time.time()) - 10)

    def exports(revoke: bool) -> Callable[[jwt.AccountClaims], None]:
        def edit(claims: jwt.AccountClaims) -> None:
            private = jwt.Export(subject="priv.>", type="stream", token_req=True)
            if revoke:
                private.revoke(imp, int(time.time()))
            claims.exports = [
                jwt.Export(subject="news.>", type="stream"),
                jwt.Export(subject="svc.time", type="service"),
                private,
                jwt.Export(subject="psvc", type="service", token_req=True),
            ]

        return edit

    def imports(with_tokens: bool) -> Callable[[jwt.AccountClaims], None]:
        def edit(claims: jwt.AccountClaims) -> None:
            claims.imports = [
                jwt.Import(subject="news.>", account=exp, type="stream"),
                jwt.Import(subject="svc.time", account=exp, type="service", local_subject="time"),
                jwt.Import(
                    subject="priv.>",
                    account=exp,
                    type="stream",
                    token=activation("stream", "priv.>") if with_tokens else "",
                ),
                jwt.Import(
                    subject="psvc",
                    account=exp,
                    type="service",
                    token=activation("service", "psvc", chain.signers["EXP"])
                    if with_tokens
                    else "",
                ),
            ]

        return edit

    chain.edits = {"EXP": [exports(False)], "IMP": [imports(True)], "NOTOK": [imports(False)]}
    responder = chain.user(
        "EXP",
        lambda u: (
            setattr(u, "pub", allow("none")) or setattr(u, "resp", jwt.ResponsePermission(1, 0))
        ),
    )
    importer, notok, sys_user = chain.user("IMP"), chain.user("NOTOK"), chain.user("SYS")
    revoked = chain.account_jwt("EXP", exports(True), iat=int(time.time()) + 1)

    async def story(url: str, conf: Path) -> list[Any]:
        svc, svc_errors, _ = await _watch(url, responder)

        async def answer(msg: Any) -> None:
            await msg.respond(b"answer:" + msg.subject.encode())

        await svc.subscribe("svc.time", cb=answer)
        await svc.subscribe("psvc", cb=answer)
        await svc.flush()
        clients = [await connect(url, importer), await connect(url, notok)]
        subs = []
        for nc in clients:
            subs.append(await nc.subscribe(">"))
            await nc.flush()

        async def drain(sub: Any) -> list[str]:
            got = []
            while True:
                try:
                    got.append((await sub.next_msg(timeout=0.2)).subject)
                except nats.errors.TimeoutError:
                    return sorted(got)

        async def round_() -> list[Any]:
            for subject in ("news.a", "priv.a", "other"):
                await svc.publish(subject, b"")
            await svc.flush()
            got = [await drain(sub) for sub in subs]
            for nc in clients:
                for subject in ("time", "psvc", "svc.time"):
                    try:
                        got.append((await nc.request(subject, b"", timeout=0.5)).data)
                    except Exception as exc:  # no responders is an outcome
                        got.append(type(exc).__name__)
                await drain(subs[clients.index(nc)])
            return got

        out = await round_()
        sys_nc = await connect(url, sys_user)
        out.append(await request(sys_nc, "$SYS.REQ.CLAIMS.UPDATE", revoked.encode()))
        await asyncio.sleep(0.1)
        out += await round_()
        out.append(svc_errors)
        for nc in (*clients, svc, sys_nc):
            await nc.close()
        return out

    both(pair(chain, "imports", resolver="full"), story)
