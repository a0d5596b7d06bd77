"""The official Go library (Debian's nats-io/jwt v2.3.0) against nscpy.

- every kind of JWT the CLI writes decodes in Go with no blocking validation issue, and Go
  re-marshals the same payload bytes wherever v2.3.0's structs know every field;
- tokens Go mints decode and validate in nscpy, and nscpy re-encodes them byte for byte from
  the same claims, iat and signer;
- tampered tokens are refused by both.
"""

from __future__ import annotations

import base64
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from nscpy import jwt, keys
from tests.commands.cliutil import ok

from .conftest import GoOracle

pytestmark = pytest.mark.e2e  # starts processes

# Paths nscpy writes (as Go's current jwt v2.8 does) that Debian's v2.3.0 structs lack, so Go
# drops them when it re-marshals; "[]" stands for every element of an array.
NEWER_THAN_GO_2_3 = frozenset(
    {
        "nats.authorization",  # auth callout (jwt v2.4); Go writes it even when empty
        "nats.trace",  # message tracing (v2.5)
        "nats.cluster_traffic",  # (v2.7)
        "nats.exports[].allow_trace",
        "nats.imports[].allow_trace",
        "nats.signing_keys[].description",  # a scope's description
    }
)


def _signing_keys_sorted(payload: dict[str, Any]) -> int:
    """Sort nats.signing_keys in place; returns how many there are.

    Go 2.3.0 writes them in map order, which is random; later versions (and nscpy) sort them.
    """
    found = payload.get("nats", {}).get("signing_keys", [])
    found.sort(key=lambda k: k if isinstance(k, str) else k["key"])
    return len(found)


def _dropped(ours: Any, go: Any, path: str = "") -> set[str]:
    """Paths present in ours and absent from go; asserts everything else is equal."""
    if isinstance(ours, dict) and isinstance(go, dict):
        dropped = {f"{path}.{key}".lstrip(".") for key in ours.keys() - go.keys()}
        assert go.keys() <= ours.keys(), f"Go added {sorted(go.keys() - ours.keys())} at {path}"
        for key in ours.keys() & go.keys():
            dropped |= _dropped(ours[key], go[key], f"{path}.{key}")
        return dropped
    if isinstance(ours, list) and isinstance(go, list) and len(ours) == len(go):
        return set().union(*(_dropped(a, b, f"{path}[]") for a, b in zip(ours, go, strict=True)))
    assert ours == go, f"{path}: nscpy {ours!r}, Go {go!r}"
    return set()


def _payload(token: str) -> bytes:
    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _cli_store(home: Path) -> dict[str, str]:
    """Build a store with the CLI exercising every JWT-shaping flag; returns {label: token}."""
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys", "--generate-signing-key")
    ok(*h, "edit", "operator", "--service-url", "nats://127.0.0.1:4222", "--tag", "env:test")
    ok(*h, "edit", "operator", "-u", "http://127.0.0.1:9090/jwt/v1")
    ok(*h, "add", "account", "-n", "A")
    ok(*h, "edit", "account", "-n", "A", "--conns", "100", "--data", "1G", "--payload", "1M",
       "--subscriptions", "1000", "--imports", "10", "--exports", "10", "--leaf-conns", "2",
       "--js-enable", "0", "--js-disk-storage", "1G", "--js-mem-storage", "512M",
       "--js-streams", "10", "--js-consumer", "100", "--js-max-ack-pending", "50",
       "--allow-pub", "a.>", "--deny-sub", "secret.>", "--allow-pub-response", "1",
       "--description", "test <account> & co", "--info-url", "https://example.com/a",
       "--tag", "team:a", "--sk", "generate")  # fmt: skip
    ok(*h, "edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "dev",
       "--allow-pub", "dev.>", "--allow-sub", "_INBOX.>", "--allow-pub-response", "2",
       "--response-ttl", "5s", "--description", "developers", "--source-network", "10.0.0.0/8",
       "--time", "08:00:00-17:00:00", "--locale", "Europe/Prague", "--bearer", "false",
       "--conn-type", "STANDARD")  # fmt: skip
    ok(*h, "add", "export", "-a", "A", "-s", "svc.>", "-r", "--latency", "lat.svc",
       "--sampling", "50", "--response-type", "Stream", "--response-threshold", "5s",
       "--description", "a service")  # fmt: skip
    ok(*h, "add", "export", "-a", "A", "-s", "priv.stream", "-p")
    ok(*h, "add", "export", "-a", "A", "-s", "pub.*", "--account-token-position", "2")
    ok(*h, "add", "mapping", "-a", "A", "-f", "foo", "-t", "bar", "--weight", "50")
    ok(*h, "add", "account", "-n", "B")
    ok(*h, "edit", "account", "-n", "B", "--js-tier", "1", "--js-disk-storage", "1G")
    ok(*h, "add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "svc.>",
       "--service", "-s", "a.svc.>", "--share")  # fmt: skip
    activation = home / "activation.jwt"
    ok(*h, "generate", "activation", "-a", "A", "-s", "priv.stream", "-t", "B",
       "-o", str(activation), "--expiry", "30d")  # fmt: skip
    ok(*h, "add", "import", "-a", "B", "-u", str(activation))
    ok(*h, "add", "user", "-a", "A", "-n", "u1", "--allow-pub", "a.>,b.*", "--allow-sub",
       "c.> q1", "--deny-pub", "a.secret", "--deny-pubsub", "x.>", "--allow-pub-response", "3",
       "--response-ttl", "5s", "--tag", "t1", "--source-network", "192.168.0.0/16",
       "--start", "2020-01-01", "--expiry", "30d")  # fmt: skip
    ok(*h, "edit", "user", "-a", "A", "-n", "u1", "--time", "08:00:00-17:00:00",
       "--locale", "Europe/Prague", "--conn-type", "STANDARD,WEBSOCKET", "--payload", "1K",
       "--data", "1M", "--subs", "10")  # fmt: skip
    ok(*h, "add", "user", "-a", "A", "-n", "bearer", "--bearer")
    ok(*h, "add", "user", "-a", "A", "-n", "scoped", "-K", "dev")
    ok(*h, "add", "user", "-a", "A", "-n", "gone")
    ok(*h, "revocations", "add-user", "-a", "A", "-n", "gone")
    ok(*h, "revocations", "add-user", "-a", "A", "-u", "*", "--at", "1600000000")
    ok(*h, "revocations", "add-activation", "-a", "A", "-s", "priv.stream", "-t", "B")
    ok(*h, "add", "user", "-a", "B", "-n", "auth")
    ok(*h, "edit", "authcallout", "-a", "B", "--auth-user", "auth", "--allowed-account", "*",
       "-x", "generate")  # fmt: skip
    tokens = {
        str(path.relative_to(home)): jwt.parse_decorated_jwt(path.read_text()).strip()
        for path in sorted(home.rglob("*.jwt"))
        if path.parts[len(home.parts)] not in ("keys", "creds")
    }
    assert len(tokens) >= 9, tokens
    return tokens


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One CLI-built store for the module: (its -H directory, {relative path: token})."""
    home = tmp_path_factory.mktemp("interop") / "nsc"
    return home, _cli_store(home)


def _seed_of(home: Path, public_key: str) -> str:
    (found,) = home.rglob(f"{public_key}.nk")
    return found.read_text()


def test_every_jwt_the_cli_writes_passes_go(
    go_oracle: GoOracle, cli_store: tuple[Path, dict[str, str]]
) -> None:
    _, tokens = cli_store
    answers = go_oracle.check(list(tokens.values()))
    kinds, exact = set(), set()
    for (label, token), go in zip(tokens.items(), answers, strict=True):
        assert go["ok"], f"{label}: Go refused it: {go.get('error')}"
        ours = jwt.decode(token)
        assert go["kind"] == ours.claim_type, label
        assert (go["subject"], go["issuer"]) == (ours.subject, ours.issuer), label
        blocking = [i for i in go["issues"] if i["blocking"] or i["time_check"]]
        assert not blocking, f"{label}: Go validation: {blocking}"
        kinds.add(ours.claim_type)
        ours_json, go_json = json.loads(_payload(token)), json.loads(go["payload"])
        key_count = _signing_keys_sorted(ours_json)
        _signing_keys_sorted(go_json)
        dropped = _dropped(ours_json, go_json)
        assert dropped <= NEWER_THAN_GO_2_3, f"{label}: Go 2.3 dropped {dropped}"
        if not dropped and key_count <= 1:
            # nothing v2.3.0 lacks: then its json.Marshal writes our exact bytes
            assert go["payload"].encode() == _payload(token), label
            exact.add(label)
    assert kinds == {"operator", "account", "user", "activation"}
    # every account carries "authorization" (v2.4+); every other token is byte-exact in Go 2.3
    assert exact == {label for label in tokens if "/accounts/" not in label or "/users/" in label}


def _without(payload: dict[str, Any], paths: frozenset[str]) -> dict[str, Any]:
    """payload minus the "nats.x" and "nats.x[].y" paths given (a copy)."""
    out: dict[str, Any] = json.loads(json.dumps(payload))
    for path in paths:
        head, _, tail = path.partition("[].")
        parent, _, name = head.rpartition(".")
        node = out.get(parent, {}) if parent else out
        if tail:
            for item in node.get(name, []):
                if isinstance(item, dict):
                    item.pop(tail, None)
        else:
            node.pop(name, None)
    return out


def test_tokens_go_mints_decode_validate_and_reencode_in_nscpy(
    go_oracle: GoOracle, cli_store: tuple[Path, dict[str, str]]
) -> None:
    home, tokens = cli_store
    requests = []
    for token in tokens.values():
        claims = json.loads(_payload(token))
        requests.append((_seed_of(home, claims["iss"]), _without(claims, NEWER_THAN_GO_2_3)))
    # Go's zero values (no NewUserClaims defaults): subs/data/payload 0, empty permissions
    account = keys.create_pair(keys.Prefix.ACCOUNT)
    user = keys.create_pair(keys.Prefix.USER)
    requests.append((account.seed, {"sub": user.public_key, "nats": {"type": "user"}}))
    bearer = {"type": "user", "bearer_token": True, "tags": ["x"]}
    requests.append((account.seed, {"sub": user.public_key, "name": "<&>", "nats": bearer}))
    minted = go_oracle.mint(requests)
    now = int(time.time())
    byte_exact = 0
    for (seed, claims), answer in zip(requests, minted, strict=True):
        assert "token" in answer, answer
        go_token = answer["token"]
        decoded = jwt.decode(go_token)
        assert decoded.claim_type == claims["nats"]["type"]
        results = jwt.ValidationResults()
        decoded.validate(results, now=now)
        assert not results.is_blocking(include_time_checks=True), results
        signer = keys.KeyPair.from_seed(seed)
        again = jwt.encode(decoded, signer, iat=decoded.issued_at)
        if claims["nats"]["type"] == "account":
            # nscpy (as jwt v2.8) always writes "authorization"; Go 2.3 has no such field
            ours_json, go_json = json.loads(_payload(again)), json.loads(_payload(go_token))
            _signing_keys_sorted(ours_json)
            _signing_keys_sorted(go_json)  # random order in Go 2.3.0
            dropped = _dropped(ours_json, go_json)
            assert "nats.authorization" in dropped
            assert dropped <= NEWER_THAN_GO_2_3
        else:
            assert again == go_token
            byte_exact += 1
    assert byte_exact == len(requests) - 3  # all but the three accounts


def _mutations(token: str, count: int, rng: random.Random) -> list[str]:
    """Single-character substitutions anywhere in the token (base64url alphabet and '.')."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    out: list[str] = []
    while len(out) < count:
        i = rng.randrange(len(token))
        ch = rng.choice(alphabet)
        if ch != token[i]:
            out.append(token[:i] + ch + token[i + 1 :])
    return out


def test_go_and_nscpy_agree_on_tampered_tokens(
    go_oracle: GoOracle, cli_store: tuple[Path, dict[str, str]]
) -> None:
    home, tokens = cli_store
    user_token = tokens["O/accounts/A/users/u1.jwt"]
    head, body, sig = user_token.split(".")
    claims = json.loads(_payload(user_token))
    # a user JWT "signed" by the operator: good signature, wrong issuer role
    operator = keys.KeyPair.from_seed(
        _seed_of(home, json.loads(_payload(tokens["O/O.jwt"]))["iss"])
    )
    claims_by_operator = dict(claims, iss=operator.public_key)
    body_by_operator = (
        base64.urlsafe_b64encode(json.dumps(claims_by_operator).encode()).rstrip(b"=").decode()
    )
    wrong_role_sig = operator.sign(f"{head}.{body_by_operator}".encode())
    wrong_role = (
        f"{head}.{body_by_operator}."
        + base64.urlsafe_b64encode(wrong_role_sig).rstrip(b"=").decode()
    )
    renamed = dict(claims, name="mallory")
    body_renamed = base64.urlsafe_b64encode(json.dumps(renamed).encode()).rstrip(b"=").decode()
    crafted = [
        wrong_role,
        f"{head}.{body_renamed}.{sig}",  # payload changed, old signature
        f"{head}.{body}",  # two parts
        f"{head}.{body}.{sig}.{sig}",  # four parts
        f"{head}.{body}.",  # empty signature
    ]
    rng = random.Random(20240601)
    candidates = crafted + [m for t in tokens.values() for m in _mutations(t, 12, rng)]
    answers = go_oracle.check(candidates)
    disagreements = []
    for token, go in zip(candidates, answers, strict=True):
        try:
            jwt.decode(token)
            ours_ok = True
        except jwt.JWTError:
            ours_ok = False
        if ours_ok != go["ok"]:
            disagreements.append((token, go.get("error")))
    assert not disagreements
    assert not any(go["ok"] for go in answers[: len(crafted)])
    # most random substitutions break the signature; both sides must refuse the same ones
    assert sum(not go["ok"] for go in answers) > len(candidates) // 2
