"""Differential fuzzing: random protocol sessions (tests/support/sessions.py) to nats-server and
to the stub; the bytes each sends back (INFO lines aside) must agree. Bounded: N examples
(default 200), ~0.5 s each. A failure prints the smallest session found.

Usage: .venv/bin/python bench/fuzz_differential.py [N_EXAMPLES]
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server_stub.harness import raw_session, run, server  # noqa: E402
from tests.support.sessions import agree, session  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with server("nats-server", None) as real_url, server("stub", None) as stub_url:

        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(chunks=session)
        def same_bytes(chunks: list[bytes]) -> None:
            want = run(raw_session(real_url, chunks))
            got = run(raw_session(stub_url, chunks))
            assert agree(want, got), f"\nsession {chunks!r}\n  nats-server {want!r}\n  stub {got!r}"

        same_bytes()
    print(f"{n} random sessions: the stub answered each byte for byte as nats-server did")


if __name__ == "__main__":
    main()
