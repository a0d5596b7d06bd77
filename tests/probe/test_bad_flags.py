"""Inputs nats-server could never use are refused, not stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.cliutil import fingerprint, run


@pytest.mark.parametrize(
    "argv,code,text",
    [
        ("add user -a demo -n x --allow-pub orders.>.x", 1, "'>' matches the rest"),
        ("add user -a demo -n x --allow-sub orders.>.x", 1, "'>' matches the rest"),
        ("add user -a demo -n x --deny-pubsub >.x", 1, "'>' matches the rest"),
        ("add user -a demo -n x --allow-sub orders.>.x|q", 1, "'>' matches the rest"),
        ("add user -a demo -n x --allow-pub a.\tb", 1, "whitespace"),
        ("edit user -a demo -n demo --allow-pub orders.>.x", 1, "'>' matches the rest"),
        ("edit account demo --allow-pub orders.>.x", 1, "'>' matches the rest"),
        ("add export -a demo --subject orders.>.x", 1, "'>' matches the rest"),
        ("add mapping -a demo --from a.>.b --to c", 1, "'>' matches the rest"),
        ("edit account demo --trace-context-subject t.>.x", 1, "'>' matches the rest"),
        ("add import -a demo --src-account SYS --remote-subject a.>.b", 1, "'>' matches"),
        ("generate config --mem-resolver --nats-resolver", 2, "exactly one"),
        ("generate config --nats-resolver --nats-resolver-cache", 2, "exactly one"),
        ("generate config", 2, "exactly one"),
        ("edit account demo --js-tier -3", 2, "--js-tier"),
        ("edit account demo --rm-js-tier -1", 2, "--rm-js-tier"),
    ],
)
def test_refused_without_a_change(home: Path, argv: str, code: int, text: str) -> None:
    before = fingerprint(home)
    args = [a.replace("|", " ") for a in argv.split(" ")]
    got, out, err = run("-H", str(home), *args)
    assert got == code, out + err
    assert text in err and err.count("\n") == 1, err
    assert fingerprint(home) == before


@pytest.mark.parametrize("subject", ["orders.>", "orders.*.x", ">", "*", "a.b.c", "a.*.>"])
def test_matchable_subjects_still_pass(home: Path, subject: str) -> None:
    code, _, err = run(
        "-H", str(home), "add", "user", "-a", "demo", "-n", "x", "--allow-pub", subject
    )
    assert code == 0, err
