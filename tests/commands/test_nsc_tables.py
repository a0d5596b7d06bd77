"""describe/list/env/revocations tables laid out as nsc prints them (nsc's cmd/describer.go)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nscpy.commands.nsc_tables import human_bytes
from nscpy.commands.output import boxed
from tests.commands.cliutil import ok


def _rows(table: str) -> list[list[str]]:
    """The cells of each content row (title, header and data rows; rules dropped)."""
    return [
        [c.strip() for c in line.strip("│").split("│")]
        for line in table.splitlines()
        if line.startswith("│")
    ]


def _labels(table: str) -> list[str]:
    return [r[0] for r in _rows(table) if len(r) > 1 and r[0]]


@pytest.fixture
def home(tmp_path: Path) -> tuple[str, ...]:
    h = ("-H", str(tmp_path))
    ok(*h, "init", "-n", "demo")
    return h


def test_box_layout_is_nscs() -> None:
    text = boxed("Operator Details", [("Name", "O2"), None, ("Signing Keys", "OAZB")])
    assert text.splitlines() == [
        "╭─────────────────────╮",
        "│  Operator Details   │",
        "├──────────────┬──────┤",
        "│ Name         │ O2   │",
        "├──────────────┼──────┤",
        "│ Signing Keys │ OAZB │",
        "╰──────────────┴──────╯",
    ]


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (9, "9 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (82854982, "83 MB"),
        (1073741824, "1.1 GB"),
        (10**10, "10 GB"),
    ],
)
def test_human_bytes_matches_go_humanize(n: int, text: str) -> None:
    assert human_bytes(n) == text


def test_describe_operator_labels(home: tuple[str, ...]) -> None:
    ok(
        *home,
        "edit",
        "operator",
        "--sk",
        "generate",
        "--account-jwt-server-url",
        "nats://127.0.0.1:4222",
    )
    text = ok(*home, "describe", "operator")
    assert _rows(text)[0] == ["Operator Details"]
    assert _labels(text) == [
        "Name",
        "Operator ID",
        "Issuer ID",
        "Issued",
        "Expires",
        "Account JWT Server",
        "Operator Service URLs",
        "System Account",
        "Require Signing Keys",
        "Signing Keys",
    ]
    claims = json.loads(ok(*home, "describe", "operator", "--json"))
    assert ["Operator ID", claims["sub"]] in _rows(text)
    assert ["Require Signing Keys", "false"] in _rows(text)


def test_describe_account_sections_and_subtables(home: tuple[str, ...]) -> None:
    ok(
        *home,
        "edit",
        "account",
        "demo",
        "--conns",
        "5",
        "--js-disk-storage",
        "1000000",
        "--allow-pub",
        "a.>",
        "--description",
        "the demo",
    )
    ok(
        *home,
        "edit",
        "signing-key",
        "-a",
        "demo",
        "--sk",
        "generate",
        "--role",
        "svc",
        "--allow-sub",
        "svc.>",
    )
    ok(*home, "add", "export", "-a", "demo", "-n", "time", "-s", "svc.time", "--service")
    ok(*home, "add", "mapping", "-a", "demo", "-f", "q", "-t", "q.1", "--weight", "40")
    text = ok(*home, "describe", "account", "demo")
    titles = [r[0] for r in _rows(text) if len(r) == 1]
    assert titles == ["Account Details", "Exports", "Mappings", "Scoped Signing Key - Details"]
    rows = _rows(text)
    for row in (
        ["Max Connections", "5"],
        ["Max Leaf Node Connections", "Unlimited"],
        ["Exports Allows Wildcards", "True"],
        ["Disallow Bearer Token", "False"],
        ["Description", "the demo"],
        ["Pub Allow", "a.>"],
        ["Jetstream", "Enabled"],
        ["Max Disk Storage", "1.0 MB"],
        ["Imports", "None"],
        ["Tracing Context", "Disabled"],
        ["Role", "svc"],
        ["Sub Allow", "svc.>"],
    ):
        assert row in rows, row
    assert [
        "Name",
        "Type",
        "Subject",
        "Account Token Position",
        "Public",
        "Revocations",
        "Tracking",
        "Allow Trace",
    ] in rows
    assert ["time", "Service", "svc.time", "-", "Yes", "0", "-", "No"] in rows
    assert ["q", "q.1", "40"] in rows and ["", "", "sum=40"] in rows


def test_describe_imports_columns(home: tuple[str, ...]) -> None:
    ok(*home, "add", "export", "-a", "demo", "-n", "orders", "-s", "orders.>")
    ok(*home, "add", "account", "-n", "B")
    ok(
        *home,
        "add",
        "import",
        "-a",
        "B",
        "--src-account",
        "demo",
        "--remote-subject",
        "orders.>",
        "-s",
        "theirs.>",
    )
    demo = json.loads(ok(*home, "describe", "account", "demo", "--json"))["sub"]
    rows = _rows(ok(*home, "describe", "account", "B"))
    assert [
        "Name",
        "Type",
        "Remote",
        "Local",
        "Expires",
        "From Account",
        "Public",
        "Allow Trace",
    ] in rows
    assert ["orders.>", "Stream", "orders.>", "theirs.>", "", demo, "Yes", "No"] in rows


def test_describe_user_and_scoped_user(home: tuple[str, ...]) -> None:
    ok(
        *home,
        "add",
        "user",
        "-a",
        "demo",
        "-n",
        "u",
        "--allow-pub",
        "x",
        "--source-network",
        "127.0.0.1/32",
    )
    ok(*home, "edit", "user", "-a", "demo", "-n", "u", "--payload", "2048")
    rows = _rows(ok(*home, "describe", "user", "-a", "demo", "u"))
    assert rows[0] == ["User"]
    for row in (
        ["Bearer Token", "No"],
        ["Pub Allow", "x"],
        ["Response Permissions", "Not Set"],
        ["Max Msg Payload", "2048 bytes (≈2.0 kB)"],
        ["Network Src", "127.0.0.1/32"],
        ["Time", "Any"],
        ["Max Subs", "Unlimited"],
    ):
        assert row in rows, row
    ok(
        *home,
        "edit",
        "signing-key",
        "-a",
        "demo",
        "--sk",
        "generate",
        "--role",
        "svc",
        "--allow-pub",
        "svc.>",
    )
    ok(*home, "add", "user", "-a", "demo", "-n", "s", "-K", "svc")
    text = ok(*home, "describe", "user", "-a", "demo", "s")
    assert ["Issuer Scoped", "Yes"] in _rows(text)
    # nscpy shows the scope the permissions come from (nsc needs a second describe for it)
    assert "Scoped Signing Key - Details" in text and ["Pub Allow", "svc.>"] in _rows(text)


def test_describe_jwt_uses_the_same_tables(home: tuple[str, ...], tmp_path: Path) -> None:
    raw = ok(*home, "describe", "account", "demo", "--raw")
    (tmp_path / "a.jwt").write_text(raw)
    text = ok("describe", "jwt", "-f", str(tmp_path / "a.jwt"))
    assert _rows(text)[0] == ["Account Details"] and "Account ID" in _labels(text)


def test_json_is_the_payload_unchanged(home: tuple[str, ...]) -> None:
    from nscpy.jwt.jws import verify_payload

    raw = ok(*home, "describe", "user", "-a", "demo", "demo", "--raw").strip()
    assert json.loads(ok(*home, "describe", "user", "-a", "demo", "demo", "--json")) == (
        verify_payload(raw)
    )
