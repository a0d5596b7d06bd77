"""push and pull --json against a running resolver (nats_server) match their schemas."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from nscpy.testing import NatsAccount, NatsOperator, NatsServer
from tests.commands.cliutil import run
from tests.schemas.check import problems


@pytest.mark.e2e
def test_push_and_pull_json_match_their_schemas(
    nats_server: NatsServer,
    nats_operator: NatsOperator,
    nats_account: Callable[..., NatsAccount],
) -> None:
    account = nats_account("A")
    home = str(nats_operator.home)
    for words in (("push", "-A"), ("pull", "-A")):
        code, out, err = run("-H", home, *words, "-u", nats_server.url, "--json", check_json=False)
        assert code == 0, err
        assert problems(words[0], json.loads(out)) == []
    assert account.public_key in json.loads(out)["accounts"]
