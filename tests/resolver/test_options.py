"""ConnectOptions: checks before any network work, env fallbacks, and the nonce signature."""

from __future__ import annotations

import base64

import pytest

from nscpy import keys
from nscpy.errors import NscValueError
from nscpy.resolver import ConnectOptions, options_from_env

USER = keys.create_pair(keys.Prefix.USER)


def test_signature_callback_signs_the_nonce_text_in_padded_base64() -> None:
    opts = ConnectOptions(["nats://127.0.0.1:4222"], "a.b.c", USER.seed)
    sig = opts.signature_callback()("a_Sj3k2XPOHn7qA")
    assert len(sig) == 88
    USER.verify(b"a_Sj3k2XPOHn7qA", base64.b64decode(sig))
    assert opts.jwt_callback()() == b"a.b.c"
    assert USER.seed not in repr(opts)


def test_env_fills_only_what_flags_left_out() -> None:
    env = {"NATS_CA": "/env/ca.pem", "NATS_CERT": "/env/c.pem", "NATS_KEY": "/env/k.pem"}
    opts = options_from_env(["nats://h:1"], "a.b.c", USER.seed, ca_file="/flag/ca.pem", env=env)
    assert (opts.ca_file, opts.cert_file, opts.key_file) == (
        "/flag/ca.pem",
        "/env/c.pem",
        "/env/k.pem",
    )
    assert options_from_env(["nats://h:1"], "a.b.c", USER.seed, env={}).ca_file is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"servers": []}, "at least one server URL"),
        ({"servers": ["http://h:1"]}, "must start with nats://, tls://, ws:// or wss://"),
        ({"servers": ["h:4222"]}, "must start with nats://"),
        ({"user_jwt": ""}, "a user JWT is needed"),
        ({"cert_file": "/c.pem"}, "needs both cert_file and key_file"),
        ({"timeout": 0}, "connect timeout must be positive"),
        ({"user_seed": keys.create_pair(keys.Prefix.ACCOUNT).seed}, "must be a user seed"),
    ],
)
def test_refused_before_connecting(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "servers": ["nats://127.0.0.1:4222"],
        "user_jwt": "a.b.c",
        "user_seed": USER.seed,
    }
    args.update(kwargs)
    with pytest.raises(NscValueError, match=message):
        ConnectOptions(**args)  # type: ignore[arg-type]


def test_no_tls_context_unless_asked() -> None:
    assert ConnectOptions(["nats://h:1"], "a.b.c", USER.seed).ssl_context() is None
    assert ConnectOptions(["tls://h:1"], "a.b.c", USER.seed).ssl_context() is not None
