"""A pytest plugin: operator-mode NATS one fixture away (docs/testing.md has the tutorial).

Installed with `pip install nscpy[test]` (entry point `pytest11`), or loaded with
`-p nscpy.testing`. Fixtures, each fresh per test:

- `nats_operator`: a temporary store with an operator, its SYS account and sys user;
- `nats_account(name, **claims)`, `nats_user(account, name, **permissions)`: factories;
- `nats_server`: a running server (full resolver, JetStream on): the bundled stub by default,
  the real nats-server with `--nats-server=real|PATH` or `NSCPY_TEST_SERVER=real|PATH`;
  accounts made or edited while it runs are pushed to it;
- `nats_connect(user, **opts)`: an async helper returning a connected nats-py client.

Everything is removed at teardown, also when the test fails: the server process, its files and
the store. Servers bind 127.0.0.1 only, on ports nobody else holds, so `pytest -n 2` is safe.
This module imports neither nats-py nor asyncio until a fixture needs them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nscpy.testing.entities import NatsAccount, NatsOperator, NatsUser
from nscpy.testing.servers import SERVER_ENV, NatsServer

__all__ = ["NatsAccount", "NatsOperator", "NatsServer", "NatsUser"]

OPERATOR_NAME = "TEST"


def pytest_addoption(parser: pytest.Parser) -> None:
    """--nats-server=stub|real|PATH."""
    group = parser.getgroup("nscpy", "operator-mode NATS fixtures (nscpy.testing)")
    group.addoption(
        "--nats-server",
        dest="nats_server",
        default=None,
        metavar="stub|real|PATH",
        help=f"server for the nats_server fixture (default: ${SERVER_ENV} or 'stub')",
    )


def server_choice(config: pytest.Config) -> str:
    """The --nats-server option, else NSCPY_TEST_SERVER, else 'stub'."""
    choice = config.getoption("nats_server") or os.environ.get(SERVER_ENV) or "stub"
    return str(choice).strip()


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which server the nats_server fixture starts."""
    return f"nscpy.testing: nats_server = {server_choice(config)}"


def _outside_any_loop(work: Callable[[], object]) -> None:
    """Run blocking work that starts its own event loop (a push), also from an async test:
    inside a running loop it runs in a helper thread, which this thread waits for."""
    import asyncio
    import threading

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
        return
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the test's thread below
            failure.append(exc)

    helper = threading.Thread(target=run, name="nscpy-testing-push")
    helper.start()
    helper.join()
    if failure:
        raise failure[0]


@pytest.fixture
def nats_operator() -> Iterator[NatsOperator]:
    """A temporary store (removed afterwards) with operator TEST, account SYS and user sys."""
    from nscpy.api import Store

    home = Path(tempfile.mkdtemp(prefix="nscpy-test-"))
    try:
        # a store of its own: HOME-independent, nothing read from or written to nsc.json
        store = Store.open(home=home / "store", env={"HOME": str(home)})
        store.add_operator(OPERATOR_NAME)
        yield NatsOperator(store, OPERATOR_NAME)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def nats_account(nats_operator: NatsOperator) -> Callable[..., NatsAccount]:
    """`nats_account(name, **claims)`: a new account (jetstream=True|{limits}, conns=...)."""
    return nats_operator.account


@pytest.fixture
def nats_user(nats_operator: NatsOperator) -> Callable[..., NatsUser]:
    """`nats_user(account, name, **permissions)`: a new user with creds."""
    return nats_operator.user


@pytest.fixture
def nats_server(
    request: pytest.FixtureRequest, nats_operator: NatsOperator
) -> Iterator[NatsServer]:
    """A server in operator mode for nats_operator's store; every account is pushed to it."""
    from nscpy.actions.connection import Connection
    from nscpy.testing.servers import start_server, stop_server

    choice = server_choice(request.config)
    workdir = Path(tempfile.mkdtemp(prefix="nscpy-server-"))
    try:
        config = workdir / "server.conf"
        text = nats_operator.store.generate_config(
            nats_operator.name, "full", resolver_dir=str(workdir / "jwt"), allow_delete=True
        )
        js_dir = workdir / "jetstream"
        config.write_text(f'{text}\njetstream {{\n    store_dir: "{js_dir}"\n}}\n')
        server = start_server(choice, config, workdir)
        try:

            def push(account: NatsAccount | None) -> None:
                # one server answers: waiting for exactly one reply returns as soon as it does
                _outside_any_loop(
                    lambda: nats_operator.store.push(
                        nats_operator.name,
                        None if account is None else [account.name],
                        connection=Connection(url=server.url, expect=1, timeout=10.0),
                    )
                )

            push(None)
            nats_operator.listeners.append(push)
            yield server
        finally:
            nats_operator.listeners.clear()
            stop_server(server.process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def nats_connect(request: pytest.FixtureRequest, nats_server: NatsServer) -> Iterator[Any]:
    """`await nats_connect(user, **opts)`: a nats-py client connected to nats_server."""
    from nscpy.testing.connect import Connector

    connector = Connector(lambda: nats_server)
    try:
        yield connector
    finally:
        connector.close_all()
