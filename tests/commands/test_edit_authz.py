"""Each authorization command writes exactly the intended claims.

Every test reads the JWT before and after the command, checks that only the intended part of the
`nats` object changed (and to exactly what), and that the new JWT validates with no issue and is
still vouched for by its issuer (operator for accounts, account for users).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from nscpy.jwt import (
    AccountClaims,
    ActivationClaims,
    OperatorClaims,
    UserClaims,
    ValidationResults,
    decode,
    parse_decorated_jwt,
    validate_user_against_account,
)

from .cliutil import ok, run


class Store:
    """An nscpy home with operator O (+SYS), accounts A and B, and user u in A."""

    def __init__(self, home: Path) -> None:
        self.home = home
        ok("-H", str(home), "add", "operator", "-n", "O", "--sys")
        ok("-H", str(home), "add", "account", "-n", "A")
        ok("-H", str(home), "add", "account", "-n", "B")
        ok("-H", str(home), "add", "user", "-a", "A", "-n", "u")

    def nsc(self, *argv: str) -> str:
        return ok("-H", str(self.home), *argv)

    def fail(self, *argv: str) -> tuple[int, str]:
        code, out, err = run("-H", str(self.home), *argv)
        assert code in (1, 2), (code, out, err)
        return code, err

    def operator(self) -> OperatorClaims:
        claims = decode((self.home / "O" / "O.jwt").read_text())
        assert isinstance(claims, OperatorClaims)
        return claims

    def account(self, name: str) -> AccountClaims:
        claims = decode((self.home / "O/accounts" / name / f"{name}.jwt").read_text())
        assert isinstance(claims, AccountClaims)
        return claims

    def user(self, account: str, name: str) -> UserClaims:
        path = self.home / "O/accounts" / account / "users" / f"{name}.jwt"
        claims = decode(path.read_text())
        assert isinstance(claims, UserClaims)
        return claims


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "nsc")


def clean(claims: Any) -> None:
    """No validation issue at all (not even a warning)."""
    results = ValidationResults()
    claims.validate(results, now=int(time.time()))
    assert results.is_empty(), [str(i) for i in results.issues]


def nats(claims: Any) -> dict[str, Any]:
    return dict(claims.to_json_dict()["nats"])


def changed(before: Any, after: Any) -> dict[str, Any]:
    """The nats keys whose value differs, with their new value (None when removed)."""
    b, a = nats(before), nats(after)
    return {k: a.get(k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def account_edit(store: Store, name: str, *argv: str) -> tuple[dict[str, Any], AccountClaims]:
    before = store.account(name)
    store.nsc(*argv)
    after = store.account(name)
    clean(after)
    assert store.operator().did_sign(after)
    assert after.issued_at >= before.issued_at
    return changed(before, after), after


def user_edit(
    store: Store, account: str, name: str, *argv: str
) -> tuple[dict[str, Any], UserClaims]:
    before = store.user(account, name)
    store.nsc(*argv)
    after = store.user(account, name)
    clean(after)
    results = ValidationResults()
    validate_user_against_account(after, store.account(account), results)
    assert results.is_empty(), results.errors()
    creds = (store.home / "creds/O" / account / f"{name}.creds").read_text()
    assert (
        parse_decorated_jwt(creds)
        == (store.home / "O/accounts" / account / "users" / f"{name}.jwt").read_text().strip()
    )
    return changed(before, after), after


def test_edit_user_every_flag(store: Store) -> None:
    diff, _ = user_edit(
        store, "A", "u",
        "edit", "user", "-a", "A", "-n", "u",
        "--allow-pub", "orders.>", "--deny-pub", "orders.secret",
        "--allow-sub", "orders.*,_INBOX.>", "--allow-sub", "work q1", "--deny-pubsub", "x.>",
        "--allow-pub-response", "3", "--response-ttl", "5s",
        "--subs", "10", "--data", "1k", "--payload", "1KiB", "--bearer",
        "--conn-type", "standard,websocket", "--source-network", "10.0.0.0/8",
        "--time", "08:00:00-17:30:00", "--time", "22:00:00-02:00:00", "--locale", "Europe/Berlin",
        "--tag", "Team:Red", "--expiry", "2099-01-01",
    )  # fmt: skip
    assert diff == {
        "pub": {"allow": ["orders.>"], "deny": ["orders.secret", "x.>"]},
        "sub": {"allow": ["orders.*", "_INBOX.>", "work q1"], "deny": ["x.>"]},
        "resp": {"max": 3, "ttl": 5_000_000_000},
        "src": ["10.0.0.0/8"],
        "times": [
            {"start": "08:00:00", "end": "17:30:00"},
            {"start": "22:00:00", "end": "02:00:00"},
        ],
        "times_location": "Europe/Berlin",
        "subs": 10,
        "data": 1000,
        "payload": 1024,
        "bearer_token": True,
        "allowed_connection_types": ["STANDARD", "WEBSOCKET"],
        "tags": ["team:red"],
    }
    assert store.user("A", "u").expires == 4070908800
    diff, _ = user_edit(
        store, "A", "u",
        "edit", "user", "-a", "A", "-n", "u", "--rm", "orders.secret,x.>", "--rm-response-perms",
        "--rm-conn-type", "WEBSOCKET", "--rm-source-network", "10.0.0.0/8",
        "--rm-time", "22:00:00", "--bearer=false", "--rm-tag", "team:red", "--locale", "",
    )  # fmt: skip
    assert diff == {
        "pub": {"allow": ["orders.>"]},
        "sub": {"allow": ["orders.*", "_INBOX.>", "work q1"]},
        "resp": None,
        "src": None,
        "times": [{"start": "08:00:00", "end": "17:30:00"}],
        "times_location": None,
        "bearer_token": None,
        "allowed_connection_types": ["STANDARD"],
        "tags": None,
    }


def test_edit_signing_key_scope_and_scoped_user(store: Store) -> None:
    diff, acct = account_edit(
        store, "A",
        "edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "dev",
        "--description", "developers", "--allow-pub", "dev.{{name()}}.>,team.{{tag(team)}}",
        "--allow-sub", "_INBOX.>", "--allow-pub-response", "--source-network", "10.0.0.0/8",
        "--conn-type", "STANDARD",
    )  # fmt: skip
    [key] = acct.signing_keys
    assert diff == {
        "signing_keys": [
            {
                "kind": "user_scope",
                "key": key,
                "role": "dev",
                "template": {
                    "pub": {"allow": ["dev.{{name()}}.>", "team.{{tag(team)}}"]},
                    "sub": {"allow": ["_INBOX.>"]},
                    "resp": {"max": 1, "ttl": 0},
                    "src": ["10.0.0.0/8"],
                    "subs": -1,
                    "data": -1,
                    "payload": -1,
                    "allowed_connection_types": ["STANDARD"],
                },
                "description": "developers",
            }
        ]
    }
    assert list(store.home.rglob(f"{key}.nk")), "the generated seed is stored"
    # editing by role name changes the template only
    diff, _ = account_edit(
        store, "A", "edit", "signing-key", "-a", "A", "--sk", "dev", "--subs", "5",
        "--rm-conn-type", "standard",
    )  # fmt: skip
    template = diff["signing_keys"][0]["template"]
    assert template["subs"] == 5 and "allowed_connection_types" not in template
    store.nsc("add", "user", "-a", "A", "-n", "bob", "-K", "dev", "--tag", "team:blue")
    bob = store.user("A", "bob")
    assert nats(bob) == {
        "pub": {},
        "sub": {},
        "issuer_account": acct.subject,
        "tags": ["team:blue"],
        "type": "user",
        "version": 2,
    }
    assert bob.issuer == key
    results = ValidationResults()
    validate_user_against_account(bob, store.account("A"), results)
    assert results.is_empty(), results.errors()
    # a scoped user may still get tags and dates; it stays scoped and signed by the scope
    diff, bob = user_edit(store, "A", "bob", "edit", "user", "-a", "A", "-n", "bob", "--tag", "x:y")
    assert diff == {"tags": ["team:blue", "x:y"]} and bob.issuer == key


def test_edit_account_limits_permissions_info_trace(store: Store) -> None:
    diff, _ = account_edit(
        store, "A",
        "edit", "account", "A", "--conns", "10", "--leaf-conns", "2", "--data", "1M",
        "--payload", "512", "--subscriptions", "100", "--imports", "5", "--exports", "6",
        "--wildcard-exports=false", "--disallow-bearer", "--allow-sub", "_INBOX.>",
        "--deny-pub", "admin.>", "--description", "the A team", "--info-url", "https://a.example",
        "--tag", "Env:Prod", "--trace-context-subject", "trace.a", "--trace-context-sampling", "25",
    )  # fmt: skip
    assert diff == {
        "limits": {
            "subs": 100,
            "data": 1_000_000,
            "payload": 512,
            "imports": 5,
            "exports": 6,
            "disallow_bearer": True,
            "conn": 10,
            "leaf": 2,
        },
        "default_permissions": {"pub": {"deny": ["admin.>"]}, "sub": {"allow": ["_INBOX.>"]}},
        "description": "the A team",
        "info_url": "https://a.example",
        "tags": ["env:prod"],
        "trace": {"dest": "trace.a", "sampling": 25},
    }
    diff, _ = account_edit(
        store, "A", "edit", "account", "-n", "A", "--rm", "admin.>", "--trace-context-subject", "",
        "--rm-tag", "env:prod",
    )  # fmt: skip
    assert diff == {"default_permissions": {"pub": {}, "sub": {"allow": ["_INBOX.>"]}},
                    "trace": None, "tags": None}  # fmt: skip


def test_edit_account_jetstream_global_and_tiered(store: Store) -> None:
    diff, _ = account_edit(
        store, "A",
        "edit", "account", "A", "--js-mem-storage", "1M", "--js-disk-storage", "1GiB",
        "--js-streams", "3", "--js-consumer", "7", "--js-max-ack-pending", "100",
        "--js-max-mem-stream", "512k", "--js-max-disk-stream", "1M", "--js-max-bytes-required",
    )  # fmt: skip
    limits = diff["limits"]
    # --js-max-ack-pending is honoured (nsc checked a misspelled flag name and dropped it)
    assert {k: v for k, v in limits.items() if k not in nats(store.account("B"))["limits"]} == {
        "mem_storage": 1_000_000,
        "disk_storage": 1024**3,
        "streams": 3,
        "consumer": 7,
        "max_ack_pending": 100,
        "mem_max_stream_bytes": 512_000,
        "disk_max_stream_bytes": 1_000_000,
        "max_bytes_required": True,
    }
    # tiers may not be mixed with global limits
    code, err = store.fail("edit", "account", "A", "--js-tier", "3", "--js-streams", "1")
    assert code == 1 and "--rm-js-tier 0" in err
    diff, acct = account_edit(
        store, "A", "edit", "account", "A", "--rm-js-tier", "0", "--js-enable", "1",
        "--js-tier", "3", "--js-disk-storage", "10M", "--js-streams", "2",
    )  # fmt: skip
    assert diff["limits"]["tiered_limits"] == {
        "R1": {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1},
        "R3": {"disk_storage": 10_000_000, "streams": 2},
    }
    assert acct.limits.jetstream.is_zero()
    diff, acct = account_edit(store, "A", "edit", "account", "A", "--rm-js-tier", "3")
    assert list(acct.limits.tiered_limits) == ["R1"]
    diff, acct = account_edit(store, "A", "edit", "account", "A", "--js-disable")
    assert not acct.limits.tiered_limits and acct.limits.jetstream.is_zero()
    assert nats(acct)["limits"] == nats(store.account("B"))["limits"]


def test_edit_account_signing_keys(store: Store) -> None:
    diff, acct = account_edit(store, "A", "edit", "account", "A", "--sk", "generate")
    [key] = acct.signing_keys
    assert diff == {"signing_keys": [key]}
    # a user signed by the signing key carries issuer_account
    store.nsc("add", "user", "-a", "A", "-n", "v", "-K", key)
    assert store.user("A", "v").issuer_account == acct.subject
    diff, _ = account_edit(store, "A", "edit", "account", "A", "--rm-sk", key)
    assert diff == {"signing_keys": None}


def test_edit_operator(store: Store) -> None:
    before = store.operator()
    store.nsc(
        "edit", "operator", "--sk", "generate", "--account-jwt-server-url", "nats://127.0.0.1:4222",
        "--service-url", "NATS://Localhost:4222", "--service-url", "tls://h:4443",
        "--tag", "Region:EU", "--expiry", "2099-01-01",
    )  # fmt: skip
    after = store.operator()
    clean(after)
    [sk] = after.signing_keys
    assert changed(before, after) == {
        "signing_keys": [sk],
        "account_server_url": "nats://127.0.0.1:4222",
        "operator_service_urls": ["nats://localhost:4222", "tls://h:4443"],
        "tags": ["region:eu"],
    }
    assert after.expires == 4070908800 and after.issuer == after.subject
    # strict mode is refused while identity keys still sign accounts and users
    code, err = store.fail("edit", "operator", "--require-signing-keys")
    assert code == 1 and "signed by the operator identity key" in err
    for account in ("SYS", "A", "B"):
        store.nsc("edit", "account", account, "-K", sk)
        assert store.account(account).issuer == sk
    code, err = store.fail("edit", "operator", "--require-signing-keys")
    assert "signed by the account identity key" in err
    for account, user in (("SYS", "sys"), ("A", "u")):
        store.nsc("edit", "account", account, "--sk", "generate")
        key = next(iter(store.account(account).signing_keys))
        store.nsc("edit", "user", "-a", account, "-n", user, "-K", key)
    store.nsc("edit", "operator", "--require-signing-keys", "--rm-service-url", "tls://h:4443")
    after = store.operator()
    clean(after)
    assert after.strict_signing_key_usage and after.operator_service_urls == [
        "nats://localhost:4222"
    ]
    # in strict mode the identity key is no longer a candidate: account edits use the signing key
    store.nsc("edit", "account", "B", "--conns", "3")
    assert store.account("B").issuer == sk and store.operator().did_sign(store.account("B"))
    # and the system account may be chosen by name
    store.nsc("edit", "operator", "--system-account", "SYS")
    assert store.operator().system_account == store.account("SYS").subject


def test_exports_imports_activation_and_mappings(store: Store, tmp_path: Path) -> None:
    diff, a = account_edit(
        store, "A",
        "add", "export", "-a", "A", "-s", "svc.time", "-r", "--response-type", "Stream",
        "--response-threshold", "2s", "--latency", "lat.time", "--sampling", "headers",
        "--allow-trace", "--description", "time", "--info-url", "https://t.example",
    )  # fmt: skip
    assert diff == {
        "exports": [
            {
                "name": "svc.time",
                "subject": "svc.time",
                "type": "service",
                "response_type": "Stream",
                "response_threshold": 2_000_000_000,
                "service_latency": {"sampling": "headers", "results": "lat.time"},
                "allow_trace": True,
                "description": "time",
                "info_url": "https://t.example",
            }
        ]
    }
    diff, a = account_edit(store, "A", "add", "export", "-a", "A", "-s", "priv.*", "-r", "-p")
    assert diff["exports"][0] == {
        "name": "priv.*", "subject": "priv.*", "type": "service", "token_req": True,
    }  # fmt: skip
    diff, a = account_edit(
        store, "A", "add", "export", "-a", "A", "-s", "feed.*.x", "--account-token-position", "2",
        "-n", "feed",
    )  # fmt: skip
    assert {"name": "feed", "subject": "feed.*.x", "type": "stream",
            "account_token_position": 2} in diff["exports"]  # fmt: skip
    diff, a = account_edit(
        store, "A", "edit", "export", "-a", "A", "-s", "svc.time", "--sampling", "40",
        "--response-type", "Singleton", "--rm-latency-sampling", "--latency", "lat.t2",
    )  # fmt: skip
    [svc] = [e for e in diff["exports"] if e["subject"] == "svc.time"]
    assert svc["service_latency"] == {"sampling": 40, "results": "lat.t2"}
    assert "response_type" not in svc

    # public import
    diff, _ = account_edit(
        store, "B", "add", "import", "-a", "B", "--src-account", "A", "--remote-subject",
        "svc.time", "-s", "time.local",
    )  # fmt: skip
    assert diff == {
        "imports": [
            {
                "name": "svc.time",
                "subject": "svc.time",
                "account": a.subject,
                "local_subject": "time.local",
                "type": "service",
            }
        ]
    }
    # private import with an activation generated by the exporter
    token_file = tmp_path / "act.jwt"
    store.nsc("generate", "activation", "-a", "A", "-s", "priv.x", "-t", "B", "-o", str(token_file),
              "--expiry", "1d")  # fmt: skip
    activation = decode(parse_decorated_jwt(token_file.read_text()))
    assert isinstance(activation, ActivationClaims)
    b = store.account("B")
    assert (activation.issuer, activation.subject) == (a.subject, b.subject)
    assert (activation.import_subject, activation.import_type) == ("priv.x", "service")
    clean(activation)
    diff, b = account_edit(store, "B", "add", "import", "-a", "B", "-u", str(token_file))
    [imp] = [i for i in diff["imports"] if i["subject"] == "priv.x"]
    assert imp == {
        "name": "priv.x",
        "subject": "priv.x",
        "account": a.subject,
        "token": parse_decorated_jwt(token_file.read_text()).strip(),
        "type": "service",
    }
    diff, b = account_edit(store, "B", "delete", "import", "-a", "B", "-s", "time.local")
    assert [i["subject"] for i in diff["imports"]] == ["priv.x"]
    diff, _ = account_edit(store, "A", "delete", "export", "-a", "A", "-s", "feed.*.x")
    assert [e["subject"] for e in diff["exports"]] == ["priv.*", "svc.time"]

    diff, _ = account_edit(store, "A", "add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.a",
                           "--weight", "60")  # fmt: skip
    diff, _ = account_edit(store, "A", "add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.b",
                           "--weight", "40")  # fmt: skip
    diff, _ = account_edit(store, "A", "add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.c",
                           "--cluster", "east")  # fmt: skip
    assert diff == {
        "mappings": {
            "m.in": [
                {"subject": "m.a", "weight": 60},
                {"subject": "m.b", "weight": 40},
                {"subject": "m.c", "weight": 100, "cluster": "east"},
            ]
        }
    }
    diff, _ = account_edit(store, "A", "delete", "mapping", "-a", "A", "-f", "m.in", "-t", "m.b")
    assert [m["subject"] for m in diff["mappings"]["m.in"]] == ["m.a", "m.c"]
    diff, _ = account_edit(store, "A", "delete", "mapping", "-a", "A", "-f", "m.in")
    assert diff == {"mappings": None}


def test_edit_authcallout(store: Store) -> None:
    u = store.user("A", "u").subject
    diff, acct = account_edit(
        store, "A", "edit", "authcallout", "-a", "A", "--auth-user", "u", "--allowed-account",
        "B", "--curve", "generate",
    )  # fmt: skip
    xkey = acct.authorization.xkey
    assert xkey.startswith("X")
    assert diff == {
        "authorization": {
            "auth_users": [u],
            "allowed_accounts": [store.account("B").subject],
            "xkey": xkey,
        }
    }
    diff, _ = account_edit(store, "A", "edit", "authcallout", "-a", "A", "--rm-allowed-account",
                           "B", "--allowed-account", "*", "--rm-curve")  # fmt: skip
    assert diff == {"authorization": {"auth_users": [u], "allowed_accounts": ["*"]}}
    diff, _ = account_edit(store, "A", "edit", "authcallout", "-a", "A", "--disable")
    assert diff == {"authorization": {}}


def test_reissue_operator(store: Store) -> None:
    old = store.operator()
    store.nsc("edit", "operator", "--sk", "generate")
    sk = store.operator().signing_keys[0]
    store.nsc("edit", "account", "B", "-K", sk)
    store.nsc("reissue", "operator")
    new = store.operator()
    clean(new)
    assert new.subject != old.subject and new.issuer == new.subject
    assert changed(old, new) == {"signing_keys": [sk]}
    for name in ("SYS", "A", "B"):
        acct = store.account(name)
        clean(acct)
        assert new.did_sign(acct)
    assert store.account("A").issuer == new.subject  # re-signed by the new identity
    assert store.account("B").issuer == sk  # a signing key's accounts are left alone
    # converting keeps the previous identity as a signing key instead of re-signing
    a_before = (store.home / "O/accounts/A/A.jwt").read_text()
    store.nsc("reissue", "operator", "--convert-to-signing-key")
    newer = store.operator()
    assert newer.signing_keys == [sk, new.subject]
    assert (store.home / "O/accounts/A/A.jwt").read_text() == a_before
    assert newer.did_sign(store.account("A"))
