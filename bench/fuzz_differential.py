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
from tests.server_stub.harness import server  # noqa: E402
from tests.support.sessions import check_session, session  # noqa: E402


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
            check_session(real_url, stub_url, chunks)

        same_bytes()
    print(f"{n} random sessions: the stub answered each byte for byte as nats-server did")


if __name__ == "__main__":
    main()
