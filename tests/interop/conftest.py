"""The Go oracle: tests/interop/go/oracle built against Debian's nats-io/jwt v2 (GOPATH mode).

Built once per session into a temp dir. It is skipped only when the `go` command is missing
(.ci/run installs golang-go and the jwt/nkeys sources when it runs as root with apt-get); if Go
is there but the build fails, the tests fail and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ORACLE_SOURCE = Path(__file__).parent / "go" / "oracle"
GOPATH = "/usr/share/gocode"
INSTALL_HINT = (
    "apt-get install golang-go golang-github-nats-io-jwt-dev golang-github-nats-io-nkeys-dev"
)


@dataclass(frozen=True)
class GoOracle:
    """Runs the oracle binary: one process per batch of requests."""

    binary: Path

    def _run(self, mode: str, lines: list[str]) -> list[dict[str, Any]]:
        assert all("\n" not in line for line in lines)
        done = subprocess.run(
            [str(self.binary), mode],
            input="".join(f"{line}\n" for line in lines),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(answers) == len(lines), done.stdout
        return answers

    def check(self, tokens: list[str]) -> list[dict[str, Any]]:
        """Go's jwt.Decode + Validate + json.Marshal for each token."""
        return self._run("check", tokens)

    def mint(self, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Go's Encode of each (signer seed, claims JSON) pair: {"token"} or {"error"}."""
        return self._run(
            "mint", [json.dumps({"seed": seed, "claims": claims}) for seed, claims in requests]
        )

    def marshal(self, values: list[str]) -> list[dict[str, Any]]:
        """Go's json.Marshal of each JSON text read back into interface{}: {"json"} or {"error"}."""
        return self._run("marshal", values)


def build_go_program(source: Path, output: Path) -> None:
    """`go build` a program of tests/interop/go in GOPATH mode; fails the test with Go's errors."""
    go = shutil.which("go")
    assert go is not None
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH}
    if (
        "HOME" not in os.environ and "GOCACHE" not in os.environ
    ):  # go refuses to guess a build cache without one
        env["GOCACHE"] = str(output.parent / "gocache")
    done = subprocess.run(
        [go, "build", "-o", str(output), "."],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode:
        pytest.fail(
            f"go build in {source} failed (is {INSTALL_HINT} done?):\n{done.stderr}", pytrace=False
        )


@pytest.fixture(scope="session")
def go_oracle(tmp_path_factory: pytest.TempPathFactory) -> GoOracle:
    """The built oracle; skips only when the go command is not installed."""
    if shutil.which("go") is None:
        pytest.skip(f"the Go toolchain is not installed ({INSTALL_HINT})")
    binary = tmp_path_factory.mktemp("go-oracle") / "oracle"
    build_go_program(ORACLE_SOURCE, binary)
    return GoOracle(binary)
