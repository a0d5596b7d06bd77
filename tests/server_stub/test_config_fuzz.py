"""Bounded fuzzing of the config parser and of the mapping to ServerOptions: any text gives
options or a ConfigError (one clear line for the operator), never another exception.
`make fuzz-stub` runs it with more examples (NSCPY_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.config import build
from server_stub.confparse import parse
from server_stub.errors import ConfigError

EXAMPLES = int(os.environ.get("NSCPY_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

piece = st.sampled_from(
    [
        "port", "listen", "max_payload", "max_pending", "write_deadline", "ping_interval",
        "authorization", "users", "user", "password", "token", "permissions", "publish",
        "subscribe", "allow", "deny", "allow_responses", "max", "expires", "accounts",
        "exports", "imports", "stream", "service", "tls", "cert_file", "timeout", "jetstream",
        "resolver", "operator", "system_account", "include", "SECRET", "$SECRET", "$HOME",
        " ", "\t", "\n", ":", "=", ";", ",", "{", "}", "[", "]", '"', "'", "#", "//", "1",
        "-1", "1KB", "99999999999999999999", "1.5", "2m", "10s", "true", "off", "a.>", "*",
        "x", "\\", "\x00", "é",
    ]
)  # fmt: skip
config_text = st.lists(piece, max_size=40).map("".join) | st.text(max_size=200)


@FUZZ
@given(text=config_text)
def test_any_config_text_gives_options_or_a_config_error(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    where = tmp_path_factory.mktemp("conf")
    try:
        build(parse(text, str(where / "fuzz.conf"), env={}))
    except ConfigError as exc:
        assert str(exc).strip()  # says something (the CLI prints it as one line)
