"""`generate diagram`: nsc's PlantUML shapes, Mermaid and DOT, checked by real renderers."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run


@pytest.fixture
def home(tmp_path: Path) -> tuple[str, ...]:
    h = ("-H", str(tmp_path / "store"))
    ok(*h, "init", "-n", "demo")
    ok(*h, "add", "export", "-a", "demo", "-n", "time", "-s", "svc.time", "--service")
    ok(*h, "add", "export", "-a", "demo", "-n", "orders", "-s", "orders.>", "--private")
    ok(*h, "add", "account", "-n", "B")
    ok(
        *h,
        "add",
        "import",
        "-a",
        "B",
        "--src-account",
        "demo",
        "--remote-subject",
        "svc.time",
        "--service",
    )
    # an import whose export was deleted since: drawn and flagged
    ok(*h, "add", "export", "-a", "demo", "-s", "gone.>")
    ok(*h, "add", "import", "-a", "B", "--src-account", "demo", "--remote-subject", "gone.>")
    ok(*h, "delete", "export", "-a", "demo", "-s", "gone.>")
    return h


def _keys(h: tuple[str, ...]) -> dict[str, str]:
    import json

    return {r["name"]: r["public_key"] for r in json.loads(ok(*h, "list", "accounts", "--json"))}


def test_component_plantuml_in_nscs_shapes(home: tuple[str, ...]) -> None:
    text = ok(*home, "generate", "diagram", "component")
    keys = _keys(home)
    lines = text.splitlines()
    assert lines[0] == "@startuml" and lines[-1] == "@enduml"
    assert "title Component Diagram of Accounts - Operator demo" in lines
    assert f"component [demo] as {keys['demo']} <<account>>" in lines
    assert f"component [B] as {keys['B']} <<account>>" in lines
    assert "component [SYS]" not in text  # no imports or exports: not drawn, as in nsc
    time_id = f"{keys['demo']}_service_svc_time"
    assert f'interface "time" << public service >> as {time_id}' in lines
    assert f'{time_id} -- {keys["demo"]} : "svc.time"' in lines
    assert f'{keys["B"]} ..> {time_id} : "svc.time"' in lines
    assert re.search(r'interface "orders" << private stream >>', text)
    assert re.search(r'interface "gone.>" << not-found stream: no such export >>', text)


def test_object_diagram_signers_and_keys(home: tuple[str, ...]) -> None:
    ok(*home, "edit", "account", "demo", "--sk", "generate")
    text = ok(*home, "generate", "diagram", "object", "--users", "--show-keys")
    keys = _keys(home)
    assert "<< system account >>" in text and "<< operator >>" in text
    assert f'object "demo" as {keys["demo"]} << account >> {{' in text
    assert f'map "demo signing keys" as {keys["demo"]}_sk {{' in text
    assert "Identity Key Present = true" in text
    users = re.findall(r'object "(\w+)" as (U\w+) << user >>', text)
    assert sorted(name for name, _ in users) == ["demo", "sys"]
    assert "users" not in ok(*home, "generate", "diagram", "object")  # no users without --users
    assert "<< user >>" not in ok(*home, "generate", "diagram", "object")


def test_output_file_and_formats(home: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "d.mmd"
    ok(*home, "generate", "diagram", "component", "--format", "mermaid", "--output-file", str(out))
    text = out.read_text()
    assert text.startswith("---\ntitle: Component Diagram") and "flowchart LR" in text
    assert "-.->" in text  # imports dashed
    code, _, err = run(*home, "generate", "diagram", "component", "--format", "svg")
    assert code == 2 and "'svg' is not one of" in err


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("plantuml") is None, reason="plantuml (Debian) not installed")
@pytest.mark.parametrize("kind", ["component", "object"])
def test_plantuml_parses_it(home: tuple[str, ...], kind: str) -> None:
    text = ok(
        *home, "generate", "diagram", kind, *(["--users", "--show-keys"] * (kind == "object"))
    )
    found = subprocess.run(
        ["plantuml", "-syntax"], input=text, capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stdout + found.stderr
    first = found.stdout.splitlines()[0]
    assert first in ("CLASS", "DESCRIPTION", "OBJECT"), found.stdout  # a diagram, not ERROR


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (Debian) not installed")
@pytest.mark.parametrize("kind", ["component", "object"])
def test_graphviz_renders_it(home: tuple[str, ...], kind: str) -> None:
    text = ok(*home, "generate", "diagram", kind, "--format", "dot")
    found = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert found.stdout.count('class="node"') >= 3


_MERMAID = Path(__file__).resolve().parents[1] / "support" / "mermaid"


@pytest.mark.skipif(
    shutil.which("node") is None or not (_MERMAID / "node_modules" / "mermaid").is_dir(),
    reason="Mermaid's parser not installed (tests/support/ensure-renderers.sh installs it)",
)
@pytest.mark.parametrize("kind", ["component", "object"])
def test_mermaid_parses_it(home: tuple[str, ...], kind: str) -> None:
    text = ok(*home, "generate", "diagram", kind, "--format", "mermaid")
    found = subprocess.run(
        ["node", str(_MERMAID / "check.mjs")], input=text, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert '"diagramType":"flowchart-v2"' in found.stdout
