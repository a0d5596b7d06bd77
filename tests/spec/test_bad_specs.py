"""The bad-spec corpus: every case names the FILE:LINE:COL the problem is reported at."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nscpy.commands.cli import cli
from nscpy.spec.errors import SpecError
from nscpy.spec.parse import parse_spec

HEAD = '[operator]\nname = "O"\n'  # lines 1-2; every case starts on line 3

# (case id, text after HEAD, line, column, part of the message)
CASES = [
    ("toml-syntax", "[accounts.A\n", 3, 12, "invalid TOML"),
    ("unknown-top-key", "[colour]\n", 3, 2, "unknown key 'colour' in the spec"),
    ("unknown-operator-key", "[accounts.A]\n", 0, 0, ""),  # placeholder replaced below
    ("operator-name-type", None, 2, 1, "name must be a string"),
    ("operator-signing-key", 'signing_keys = ["OBAD"]\n', 3, 17, 'is not "generate"'),
    ("operator-service-url", 'service_urls = ["http://x:4222"]\n', 3, 17, "protocol not supported"),
    ("operator-account-server-url", 'account_server_url = "localhost"\n', 3, 1, "needs a scheme"),
    ("system-account-unknown", 'system_account = "NOPE"\n', 3, 1, "system_account 'NOPE'"),
    ("strict-without-keys", "strict = true\n", 3, 1, "strict needs"),
    ("unknown-account-key", "[accounts.A]\ncolor = 1\n", 4, 1, "unknown key 'color'"),
    ("unknown-template", '[accounts.A]\nuse = "nope"\n', 4, 1, "unknown template 'nope'"),
    (
        "template-cycle",
        '[templates.a]\nuse = "b"\n[templates.b]\nuse = "a"\n',
        4,
        1,
        "cycle",
    ),
    ("template-unknown-key", "[templates.t]\nwhat = 1\n", 4, 1, "unknown key 'what'"),
    ("limits-unknown-key", "[accounts.A]\nlimits = { con = 1 }\n", 4, 12, "unknown key 'con'"),
    ("limits-bad-size", '[accounts.A]\nlimits = { data = "1Q" }\n', 4, 12, "unknown unit"),
    ("limits-wrong-type", "[accounts.A]\nlimits = { conns = true }\n", 4, 12, "integer"),
    ("limits-below-minus-one", "[accounts.A]\nlimits = { conns = -2 }\n", 4, 12, "at least -1"),
    (
        "jetstream-and-tiers",
        "[accounts.A]\njetstream = { streams = 1 }\njetstream_tiers = { R1 = { streams = 1 } }\n",
        5,
        1,
        "exclusive",
    ),
    ("jetstream-unknown-key", "[accounts.A]\njetstream = { disk = 1 }\n", 4, 15, "unknown key"),
    ("tier-name", "[accounts.A]\njetstream_tiers = { X1 = {} }\n", 4, 21, "tier 'X1'"),
    (
        "default-permissions-subject",
        '[accounts.A]\ndefault_permissions = { allow_pub = ["a..b"] }\n',
        4,
        38,
        "consecutive",
    ),
    ("user-subject-space", '[accounts.A.users.u]\nallow_pub = ["a b"]\n', 4, 14, "without spaces"),
    ("user-sub-queue-ok-pub-not", '[accounts.A.users.u]\ndeny_pub = ["a q"]\n', 4, 13, "spaces"),
    ("user-fwc-middle", '[accounts.A.users.u]\nallow_sub = ["a.>.b"]\n', 4, 14, "last token"),
    ("user-partial-wildcard", '[accounts.A.users.u]\nallow_sub = ["a.b*"]\n', 4, 14, "whole token"),
    ("user-unknown-key", "[accounts.A.users.u]\nallow_publish = []\n", 4, 1, "unknown key"),
    (
        "user-unknown-role",
        '[accounts.A.users.u]\nrole = "svc"\n',
        4,
        1,
        "role 'svc' is not a scoped signing key",
    ),
    (
        "user-role-with-perms",
        '[accounts.A]\nsigning_keys = [{ role = "svc" }]\n[accounts.A.users.u]\n'
        'role = "svc"\nallow_pub = ["x"]\n',
        6,
        1,
        "scoped role",
    ),
    ("user-src-cidr", '[accounts.A.users.u]\nsrc = ["10.0.0.0/33"]\n', 4, 8, "not a CIDR"),
    ("user-times", '[accounts.A.users.u]\ntimes = ["25:00:00-26:00:00"]\n', 4, 10, "window"),
    ("user-locale", '[accounts.A.users.u]\nlocale = "Mars/Olympus"\n', 4, 1, "IANA"),
    ("user-conn-type", '[accounts.A.users.u]\nconn_types = ["CARRIER"]\n', 4, 15, "CARRIER"),
    ("user-expiry-unit", '[accounts.A.users.u]\nexpiry = "90x"\n', 4, 1, "not a valid time"),
    ("user-expiry-negative", '[accounts.A.users.u]\nexpiry = "-5d"\n', 4, 1, "must be positive"),
    (
        "user-start-after-expiry",
        '[accounts.A.users.u]\nstart = "2030-01-02"\nexpiry = "2030-01-01"\n',
        5,
        1,
        "after start",
    ),
    ("response-ttl", '[accounts.A.users.u]\nresponse_ttl = "5 s"\n', 4, 1, "not a valid duration"),
    (
        "allow-pub-response-zero",
        "[accounts.A.users.u]\nallow_pub_response = 0\n",
        4,
        1,
        "at least 1",
    ),
    ("user-name-slash", '[accounts.A.users."a/b"]\n', 3, 19, "cannot contain '/'"),
    (
        "duplicate-role",
        '[accounts.A]\nsigning_keys = [{ role = "r" }, { role = "r" }]\n',
        4,
        35,
        "duplicate signing-key role",
    ),
    ("signing-key-bad", '[accounts.A]\nsigning_keys = ["AXX"]\n', 4, 17, "account public key"),
    ("signing-key-table-no-role", "[accounts.A]\nsigning_keys = [{ }]\n", 4, 17, "needs a role"),
    ("export-no-subject", '[accounts.A]\nexports = [{ name = "x" }]\n', 4, 12, "needs a subject"),
    ("export-type", '[accounts.A]\nexports = [{ subject = "a", type = "x" }]\n', 4, 29, "type"),
    (
        "export-duplicate",
        '[accounts.A]\nexports = [{ subject = "a" }, { subject = "a" }]\n',
        4,
        33,
        "duplicate stream export",
    ),
    (
        "export-response-type-stream",
        '[accounts.A]\nexports = [{ subject = "a", response_type = "Stream" }]\n',
        4,
        29,
        "needs a service export",
    ),
    (
        "export-latency-stream",
        '[accounts.A]\nexports = [{ subject = "a", latency = "lat" }]\n',
        4,
        29,
        "latency tracking needs a service",
    ),
    (
        "export-sampling-range",
        "[accounts.A]\n"
        'exports = [{ subject = "a", type = "service", latency = "l", sampling = 101 }]\n',
        4,
        62,
        "sampling must be",
    ),
    (
        "export-token-position",
        '[accounts.A]\nexports = [{ subject = "a.b", account_token_position = 2 }]\n',
        4,
        31,
        "must point at a '*'",
    ),
    (
        "import-unknown-account",
        '[accounts.A]\nimports = [{ src_account = "B", remote_subject = "x" }]\n',
        4,
        14,
        "src_account 'B'",
    ),
    (
        "import-not-exported",
        '[accounts.B]\n[accounts.A]\nimports = [{ src_account = "B", remote_subject = "x" }]\n',
        5,
        33,
        "has no stream export covering 'x'",
    ),
    (
        "import-type-mismatch",
        '[accounts.B]\nexports = [{ subject = "x", type = "service" }]\n[accounts.A]\n'
        'imports = [{ src_account = "B", remote_subject = "x" }]\n',
        6,
        33,
        "no stream export",
    ),
    (
        "import-missing-keys",
        '[accounts.A]\nimports = [{ name = "i" }]\n',
        4,
        12,
        "needs src_account",
    ),
    (
        "import-share-stream",
        '[accounts.B]\nexports = [{ subject = "x" }]\n[accounts.A]\n'
        'imports = [{ src_account = "B", remote_subject = "x", share = true }]\n',
        6,
        55,
        "share is only valid",
    ),
    (
        "mapping-weight",
        '[accounts.A]\nmappings = { "a" = [{ to = "b", weight = 120 }] }\n',
        4,
        33,
        "weight must be 1..100",
    ),
    (
        "mapping-total",
        "[accounts.A]\n"
        'mappings = { "a" = [{ to = "b", weight = 60 }, { to = "c", weight = 60 }] }\n',
        4,
        14,
        "more than 100%",
    ),
    ("mapping-subject", '[accounts.A]\nmappings = { "a." = [{ to = "b" }] }\n', 4, 14, "end with"),
    (
        "auth-user-unknown",
        '[accounts.A]\nauth_callout = { auth_users = ["ghost"] }\n',
        4,
        32,
        "auth user 'ghost'",
    ),
    ("auth-no-users", "[accounts.A]\nauth_callout = { }\n", 4, 1, "at least one auth_users"),
    ("user-set-count", '[[accounts.A.user_sets]]\nname = "d-{n}"\ncount = 0\n', 5, 1, "at least 1"),
    (
        "user-set-no-n",
        '[[accounts.A.user_sets]]\nname = "dev"\ncount = 3\n',
        4,
        1,
        "must contain {n}",
    ),
    (
        "user-set-collision",
        '[accounts.A.users.d-2]\n[[accounts.A.user_sets]]\nname = "d-{n}"\ncount = 3\n',
        5,
        1,
        "already exists",
    ),
    ("user-set-no-count", '[[accounts.A.user_sets]]\nname = "d-{n}"\n', 3, 1, "needs a count"),
    (
        "account-case-duplicate",
        "[accounts.orders]\n[accounts.ORDERS]\n",
        4,
        11,
        "only in case",
    ),
    ("undefined-variable", '[accounts.A]\ndescription = "${NOPE}"\n', 4, 1, "undefined variable"),
    ("revocation-key", "[accounts.A]\nrevocations = { X = 1 }\n", 4, 17, "revocation key 'X'"),
    (
        "trace-sampling",
        '[accounts.A]\ntrace = { subject = "t", sampling = 200 }\n',
        4,
        26,
        "1..100",
    ),
    (
        "system-account-jetstream",
        'system_account = "S"\n[accounts.S]\njetstream = { streams = 1 }\n',
        4,
        11,
        "cannot have JetStream",
    ),
]


def _case(case_id: str, body: str | None) -> str:
    if case_id == "operator-name-type":
        return "[operator]\nname = 5\n"
    return HEAD + (body or "")


@pytest.mark.parametrize(
    ("case_id", "body", "line", "col", "message"),
    [c for c in CASES if c[0] != "unknown-operator-key"],
    ids=[c[0] for c in CASES if c[0] != "unknown-operator-key"],
)
def test_bad_spec_reports_position(case_id, body, line, col, message):
    with pytest.raises(SpecError) as info:
        parse_spec([("spec.toml", _case(case_id, body))])
    lines = str(info.value).splitlines()
    want = f"spec.toml:{line}:{col}: "
    assert any(ln.startswith(want) and message in ln for ln in lines), lines


def test_corpus_is_large_enough():
    assert len(CASES) - 1 >= 40


def test_unknown_operator_key_inline_position():
    with pytest.raises(SpecError) as info:
        parse_spec([("spec.toml", '[operator]\nname = "O"\n  tagz = ["x"]\n')])
    assert str(info.value).startswith("spec.toml:3:3: unknown key 'tagz' in [operator]")


def test_all_problems_reported_together():
    text = HEAD + '[accounts.A]\nbad1 = 1\nbad2 = 2\n[accounts.A.users.u]\nsrc = ["x"]\n'
    with pytest.raises(SpecError) as info:
        parse_spec([("spec.toml", text)])
    assert [str(i).split(": ")[0] for i in info.value.issues] == [
        "spec.toml:4:1",
        "spec.toml:5:1",
        "spec.toml:7:8",
    ]


def test_problem_in_template_is_reported_at_the_template():
    text = HEAD + '[templates.t]\nlimits = { conns = "many" }\n[accounts.A]\nuse = "t"\n'
    with pytest.raises(SpecError) as info:
        parse_spec([("spec.toml", text)])
    assert str(info.value).startswith("spec.toml:4:12: conns must be an integer")


def test_problem_in_overlay_is_reported_in_the_overlay_file():
    base = HEAD + "[accounts.A]\nlimits = { conns = 5 }\n"
    overlay = '[accounts.A]\nlimits = { conns = "x" }\n'
    with pytest.raises(SpecError) as info:
        parse_spec([("base.toml", base), ("staging.toml", overlay)])
    assert str(info.value).startswith("staging.toml:2:12: conns must be an integer")


def test_cli_bad_spec_exit_1_every_line_has_a_position(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(HEAD + "[accounts.A]\nx = 1\ny = 2\n")
    result = CliRunner().invoke(cli, ["-H", str(tmp_path / "nsc"), "plan", str(spec)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.startswith("nscpy: error:")]
    assert [ln.split(": ")[2] for ln in lines] == [f"{spec}:4:1", f"{spec}:5:1"]
    assert not (tmp_path / "nsc").exists() or not any((tmp_path / "nsc").rglob("*.jwt"))


def test_cli_bad_var_is_usage_error(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HEAD)
    result = CliRunner().invoke(cli, ["-H", str(tmp_path), "plan", str(spec), "-V", "novalue"])
    assert result.exit_code == 1
    missing = CliRunner().invoke(cli, ["-H", str(tmp_path), "plan", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2


def test_cli_push_value_must_be_a_url(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HEAD)
    code, _, err = _run("-H", str(tmp_path), "apply", "--push", str(spec))
    assert code == 2 and "is not a URL" in err and "--push=URL" in err


def test_cli_prune_needs_yes_when_it_would_delete(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HEAD + "[accounts.A]\n[accounts.B]\n")
    h = ("-H", str(tmp_path / "nsc"))
    assert _run(*h, "apply", str(spec))[0] == 0
    spec.write_text(HEAD + "[accounts.A]\n")
    code, _, err = _run(*h, "apply", str(spec), "--prune")
    assert code == 1 and "pass --yes" in err
    assert _run(*h, "apply", str(spec), "--prune", "--yes")[0] == 0
    assert "B" not in _run(*h, "export", "spec")[1]


def _run(*argv):
    from tests.commands.cliutil import run

    return run(*argv)
