"""Auth callout end to end: the Python service (nscpy.callout) on nats-server and on the stub.

Every test runs on both servers and in both modes (config-file `auth_callout` and operator-mode
account `authorization` claims), with the same clients and the same expectations.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from nscpy.callout import Allow, AuthRequest, Reject
from tests.e2e.callout_world import World, make_tls, user_map
from tests.server_stub.harness import jwt_session, raw_session, run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SERVERS = ["nats-server", "stub"]
MODES = ["config", "operator"]
AUTH_VIOLATION = "nats: 'Authorization Violation'"


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=SERVERS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _user_password_session(world: World, url: str, password: str, chunks: list[bytes]):
    """CONNECT with user/password (and the sentinel JWT in operator mode), then chunks."""
    if world.mode == "config":
        connect = (
            b'CONNECT {"verbose":false,"protocol":1,"user":"alice","pass":"'
            + password.encode()
            + b'"}\r\n'
        )
        if not chunks:  # refused: CONNECT and PING in one write leave nothing unread at the
            # server when it closes, so the close is a FIN, not a reset losing the -ERR
            return await raw_session(url, [connect + b"PING\r\n"], quiet=0.3, ping=False)
        return await raw_session(url, [connect, *chunks], quiet=0.3)
    # nats-py sends user/password only without a JWT, so the sentinel case speaks raw protocol
    assert world.sentinel is not None
    return await jwt_session(
        url,
        world.sentinel.jwt,
        world.sentinel.kp,
        chunks,
        connect={"user": "alice", "pass": password},
        quiet=0.3,
    )


def test_user_password_mapped_to_account_with_permissions(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)

    async def scenario() -> bytes:
        with server(kind, world.config()) as url:
            async with world.service(url):
                return await _user_password_session(
                    world,
                    url,
                    "s3cret",
                    [
                        b"SUB orders.> 1\r\n",
                        b"PUB orders.new 2\r\nhi\r\n",
                        b"PUB orders.secret 0\r\n\r\n",
                        b"PUB billing.x 0\r\n\r\n",
                        b"SUB billing.> 2\r\n",
                    ],
                )

    out = run(scenario())
    assert b"MSG orders.new 1 2\r\nhi\r\n" in out
    assert b"-ERR 'Permissions Violation for Publish to \"orders.secret\"'" in out
    assert b"-ERR 'Permissions Violation for Publish to \"billing.x\"'" in out
    assert b"-ERR 'Permissions Violation for Subscription to \"billing.>\"'" in out
    assert b"PONG\r\n" in out and b"<EOF>" not in out, out
    if mode == "config":  # the second INFO names the account the callout placed the user in
        assert b'"remote_account":"ORDERS"' in out


def test_wrong_password_is_authorization_violation(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)

    async def scenario() -> bytes:
        with server(kind, world.config()) as url:
            async with world.service(url) as service:
                out = await _user_password_session(world, url, "wrong", [])
                assert service.counters["rejected"] == 1
                return out

    out = run(scenario())
    assert out.startswith(b"-ERR 'Authorization Violation'\r\n"), out
    assert out.endswith(b"<EOF>")


async def _token_client_checks(world: World, url: str) -> None:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(url, **world.client_options(token="t0ken", error_cb=on_error))
    try:
        sub = await nc.subscribe("billing.>")
        await nc.publish("billing.1", b"x")
        msg = await sub.next_msg(timeout=2)
        assert msg.subject == "billing.1"
        await nc.publish("orders.1", b"x")
        await nc.flush()
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.02)
        assert [str(e) for e in errors] == ['nats: permissions violation for publish to "orders.1"']
    finally:
        await nc.close()


def test_token_mapped_to_account_with_permissions(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            async with world.service(url):
                await _token_client_checks(world, url)

    run(scenario())


def test_unknown_client_is_rejected(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            async with world.service(url) as service:
                with pytest.raises(nats.errors.Error) as caught:
                    await nats.connect(url, **world.client_options(token="nope"))
                assert str(caught.value) == AUTH_VIOLATION
                assert service.counters["rejected"] == 1

    run(scenario())


def test_xkey_encrypted_requests_and_responses(tmp_path: Path, kind: str, mode: str):
    from nscpy import keys

    world = World(mode, tmp_path, xkey=keys.create_curve_pair())
    seen: list[bool] = []
    base = user_map()

    def authorizer(request: AuthRequest) -> Allow | Reject:
        seen.append(request.encrypted)
        return base(request)  # type: ignore[return-value]

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            async with world.service(url, authorizer):
                await _token_client_checks(world, url)

    run(scenario())
    assert seen == [True]


def test_authorizer_that_raises_is_a_rejection_and_service_goes_on(
    tmp_path: Path, kind: str, mode: str
):
    world = World(mode, tmp_path)
    base = user_map()

    async def authorizer(request: AuthRequest) -> Allow | Reject:
        if request.token == "boom":
            raise RuntimeError("directory unreachable")
        return base(request)  # type: ignore[return-value]

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            async with world.service(url, authorizer) as service:
                with pytest.raises(nats.errors.Error) as caught:
                    await nats.connect(url, **world.client_options(token="boom"))
                assert str(caught.value) == AUTH_VIOLATION
                await _token_client_checks(world, url)
                assert service.counters == {"failed": 1, "allowed": 1}

    run(scenario())


def test_two_replicas_share_requests(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)

    async def scenario() -> tuple[int, int]:
        with server(kind, world.config()) as url:
            async with world.service(url) as one, world.service(url) as two:
                for _ in range(20):
                    nc = await nats.connect(url, **world.client_options(token="t0ken"))
                    await nc.close()
                return one.counters["allowed"], two.counters["allowed"]

    first, second = run(scenario(), timeout=60)
    # a queue group: each request is answered once, and both replicas get some (a random
    # split; all 20 to one replica has probability 2**-19)
    assert first + second == 20
    assert first > 0 and second > 0


def test_mtls_client_certificate_subject_reaches_authorizer(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path, tls=make_tls(tmp_path))
    assert world.tls is not None
    subjects: list[str | None] = []

    def authorizer(request: AuthRequest) -> Allow | Reject:
        subject = request.client_certificate_subject()
        subjects.append(subject)
        if subject == world.tls.client_subject:  # type: ignore[union-attr]
            return Allow("ORDERS")
        return Reject(f"unknown certificate {subject}")

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            async with world.service(url, authorizer):
                nc = await nats.connect(url, **world.client_options())
                await nc.publish("anything", b"x")
                await nc.flush()
                await nc.close()

    run(scenario())
    assert subjects == [world.tls.client_subject]
    assert "CN=alice-cert" in world.tls.client_subject


def test_operator_mode_service_signs_with_signing_keys(tmp_path: Path, kind: str):
    """Response signed by the callout account's signing key, user by the target's signing key."""
    world = World("operator", tmp_path)
    chain = world.chain
    assert chain is not None
    service_keys = world.service_keys()
    service_keys.issuer = chain.signers["AUTH"]
    service_keys.accounts = {chain.pub("ORDERS"): chain.signers["ORDERS"]}

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            nc = await nats.connect(url, allow_reconnect=False, **world.service_options())
            from nscpy.callout import CalloutService

            service = CalloutService(nc, service_keys, user_map())
            await service.start()
            try:
                await _token_client_checks(world, url)
            finally:
                await service.stop()
                await nc.close()
            assert service.counters == {"allowed": 1}

    run(scenario())


def test_slow_authorizer_is_rejected_and_service_goes_on(tmp_path: Path, kind: str, mode: str):
    world = World(mode, tmp_path)
    base = user_map()

    async def authorizer(request: AuthRequest) -> Allow | Reject:
        if request.token == "slow":
            await asyncio.sleep(30)
        return base(request)  # type: ignore[return-value]

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            # the service gives up first (0.3 s), well inside the server's 2 s auth timeout
            async with world.service(url, authorizer, timeout=0.3) as service:
                with pytest.raises(nats.errors.Error) as caught:
                    await nats.connect(url, **world.client_options(token="slow"))
                assert str(caught.value) == AUTH_VIOLATION
                await _token_client_checks(world, url)
                assert service.counters == {"failed": 1, "allowed": 1}

    run(scenario())


def test_no_service_means_authorization_violation_after_the_auth_timeout(tmp_path: Path, kind: str):
    # operator mode only: config mode's timeout runs in test_callout_rejections ('silence')
    world = World("operator", tmp_path)

    async def scenario() -> None:
        with server(kind, world.config()) as url:
            with pytest.raises(nats.errors.Error) as caught:
                # nats-py's default connect timeout (2 s) equals the server's auth timeout
                opts = world.client_options(token="t0ken", connect_timeout=6)
                await nats.connect(url, **opts)
            assert str(caught.value) == AUTH_VIOLATION

    run(scenario())


def test_expiry_from_the_authorizer_closes_the_connection(tmp_path: Path, kind: str, mode: str):
    import time

    world = World(mode, tmp_path)

    def authorizer(request: AuthRequest) -> Allow:
        return Allow("ORDERS", expires=int(time.time()) + 2)

    async def scenario() -> str:
        closed = asyncio.Event()

        async def on_closed() -> None:
            closed.set()

        with server(kind, world.config()) as url:
            async with world.service(url, authorizer):
                opts = world.client_options(token="t0ken", closed_cb=on_closed)
                nc = await nats.connect(url, **opts)
                await asyncio.wait_for(closed.wait(), 6)
                return str(nc.last_error)

    assert run(scenario()) == "nats: user authentication expired"


def test_user_placed_in_the_callout_account_may_not_publish_auth_requests(
    tmp_path: Path, kind: str, mode: str
):
    world = World(mode, tmp_path)

    async def scenario() -> list[str]:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        with server(kind, world.config()) as url:
            async with world.service(url, lambda request: Allow("AUTH")):
                opts = world.client_options(token="t0ken", error_cb=on_error)
                nc = await nats.connect(url, **opts)
                await nc.publish("$SYS.REQ.USER.AUTH", b"x")
                await nc.publish("anything.else", b"x")
                await nc.flush()
                for _ in range(50):
                    if errors:
                        break
                    await asyncio.sleep(0.02)
                await nc.close()
        return errors

    assert run(scenario()) == ['nats: permissions violation for publish to "$sys.req.user.auth"']


@pytest.fixture(scope="module")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/interop/go/calloutclient built with Debian's nats.go (skips without Go)."""
    import shutil

    from tests.interop.conftest import INSTALL_HINT, build_go_program

    if shutil.which("go") is None:
        pytest.skip(f"the Go toolchain is not installed ({INSTALL_HINT})")
    binary = tmp_path_factory.mktemp("go-callout") / "calloutclient"
    source = Path(__file__).parents[1] / "interop" / "go" / "calloutclient"
    build_go_program(source, binary)
    return binary


def test_go_client_user_password_with_sentinel(tmp_path: Path, kind: str, mode: str, go_client):
    """nats.go sends the sentinel JWT and user/password together (nats-py cannot)."""
    import subprocess

    world = World(mode, tmp_path)

    def client(url: str, password: str) -> list[str]:
        argv = [str(go_client), "-url", url, "-user", "alice", "-pass", password]
        if world.sentinel is not None:
            argv += ["-creds", str(world.sentinel.path)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
        return done.stdout.splitlines()

    async def scenario() -> tuple[list[str], list[str]]:
        with server(kind, world.config()) as url:
            async with world.service(url):
                good = await asyncio.to_thread(client, url, "s3cret")
                bad = await asyncio.to_thread(client, url, "wrong")
                return good, bad

    good, bad = run(scenario())
    # the message and the async errors come from different goroutines: compare as sets
    assert good[0] == "connected" and sorted(good) == sorted(
        [
            'async: nats: permissions violation for publish to "orders.secret"',
            'async: nats: permissions violation for publish to "billing.x"',
            'async: nats: permissions violation for subscription to "billing.>"',
            "connected",
            "msg orders.new hi",
        ]
    ), good
    assert bad == ["error: nats: authorization violation"]


def test_operator_mode_scoped_signing_key_template_applies(tmp_path: Path, kind: str):
    """A user issued by the target's scoped key gets the scope's template, expanded."""
    from nscpy import jwt, keys
    from nscpy.callout import CalloutService

    world = World("operator", tmp_path)
    chain = world.chain
    assert chain is not None
    scoped = keys.create_pair(keys.Prefix.ACCOUNT)

    def scope(claims: jwt.AccountClaims) -> None:
        template = jwt.UserPermissionLimits(subs=-1, data=-1, payload=-1)
        template.pub.allow = ["scoped.{{name()}}.>"]
        template.sub.allow = ["scoped.>", "_INBOX.>"]
        claims.signing_keys.add_scoped(jwt.UserScope(key=scoped.public_key, template=template))

    chain.edits["ORDERS"] = [scope]
    service_keys = world.service_keys()
    service_keys.accounts = {chain.pub("ORDERS"): scoped}
    service_keys.scoped = {scoped.public_key}

    async def scenario() -> list[str]:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        with server(kind, world.config()) as url:
            svc = await nats.connect(url, allow_reconnect=False, **world.service_options())
            service = CalloutService(svc, service_keys, lambda r: Allow("ORDERS", name="bob"))
            await service.start()
            try:
                opts = world.client_options(token="x", error_cb=on_error)
                nc = await nats.connect(url, **opts)
                sub = await nc.subscribe("scoped.>")
                await nc.publish("scoped.bob.1", b"ok")
                assert (await sub.next_msg(timeout=2)).subject == "scoped.bob.1"
                await nc.publish("scoped.alice.1", b"no")
                await nc.flush()
                for _ in range(50):
                    if errors:
                        break
                    await asyncio.sleep(0.02)
                await nc.close()
            finally:
                await service.stop()
                await svc.close()
        return errors

    assert run(scenario()) == ['nats: permissions violation for publish to "scoped.alice.1"']
