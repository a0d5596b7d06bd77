"""The click-free fast path for `describe` prints exactly what the click commands print.

Every case runs twice on the same store: through the console script's entry point (fast path
first) and through the click CLI alone; stdout, stderr and exit code must be identical. The
plain forms must really be served without click (checked in a fresh interpreter).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nscpy.commands import cli, entry, fastpath

from .cliutil import ok


def _capture(main: object, argv: list[str]) -> tuple[int, str, str]:
    out_bytes, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)  # type: ignore[operator]
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out_bytes.getvalue().decode("utf-8"), err.getvalue()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fast") / "nsc"
    ok("-H", str(home), "init", "-n", "demo")
    ok("-H", str(home), "add", "user", "-a", "demo", "-n", "ünï", "--allow-pub", "a.>,b.<x>")
    ok("-H", str(home), "add", "account", "-n", "second")
    return home


FAST = [
    ["describe", "user", "-a", "demo", "demo", "--json"],
    ["describe", "user", "-a", "demo", "-n", "ünï", "-J"],
    ["describe", "user", "--account=demo", "--name=ünï"],
    ["describe", "user", "-a", "demo", "demo", "-R"],
    ["describe", "user", "-a", "demo", "demo", "-F", "nats.pub"],
    ["describe", "user", "-a", "demo", "demo", "--field", "name"],
    ["describe", "user", "-a", "SYS", "--json"],
    ["describe", "account", "demo", "--json"],
    ["describe", "account", "-n", "SYS"],
    ["describe", "account", "second", "--raw"],
    ["describe", "operator", "--json"],
    ["describe", "operator", "demo"],
]
FALLBACK = [
    ["describe", "user", "--help"],
    ["describe", "user", "-a", "demo", "nobody", "--json"],  # an error: click reports it
    ["describe", "user", "-a", "demo", "--json"],  # several users: an error
    ["describe", "user", "-a", "nope", "demo"],
    ["describe", "account", "-a", "demo"],  # no such option for accounts
    ["describe", "user", "-a", "demo", "demo", "-JR"],  # combined flags
    ["describe", "user", "-a", "demo", "demo", "--", "x"],
    ["describe", "user", "-a", "demo", "demo", "extra"],
    ["describe", "user", "-a", "demo", "demo", "-F", "nats.nothing"],
    ["describe", "jwt", "-f", "-"],
    ["--version"],
    ["describe", "user", "-a"],
    ["describe"],
]


@pytest.mark.parametrize("argv", FAST + FALLBACK, ids=lambda a: " ".join(a))
def test_entry_point_prints_what_the_click_cli_prints(home: Path, argv: list[str]) -> None:
    full = ["-H", str(home), *argv]
    assert _capture(entry.main, full) == _capture(cli.main, full)


@pytest.mark.parametrize("argv", FAST, ids=lambda a: " ".join(a))
def test_plain_describes_take_the_fast_path(home: Path, argv: list[str]) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        assert fastpath.run(["-H", str(home), *argv]) == 0


@pytest.mark.parametrize("argv", FALLBACK, ids=lambda a: " ".join(a))
def test_everything_else_is_left_to_click(home: Path, argv: list[str]) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        assert fastpath.run(["-H", str(home), *argv]) is None
    assert out.buffer.getvalue() == b""


def test_root_directory_options_and_environment(home: Path, tmp_path: Path) -> None:
    argv = ["describe", "user", "-a", "demo", "demo", "--json"]
    expected = _capture(cli.main, ["-H", str(home), *argv])
    assert _capture(entry.main, ["--all-dirs", str(home), *argv]) == expected
    # the three directories given one by one, and through click's environment variables
    dirs = ["--config-dir", str(home), "--data-dir", str(home), "--keystore-dir", str(home)]
    assert _capture(entry.main, [*dirs, *argv]) == expected
    env = {"NSCPY_CONFIG_DIR": str(home), "NSCPY_DATA_DIR": str(home)}
    env |= {"NSCPY_KEYSTORE_DIR": str(home)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        assert _capture(entry.main, argv) == _capture(cli.main, argv) == expected


@pytest.mark.e2e
def test_fast_path_never_imports_click(home: Path) -> None:
    code = (
        "import sys; from nscpy.commands.entry import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('click', 'keyring', 'nacl', 'hashlib'))), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json\n" + code,
            "-H",
            str(home),
            "describe",
            "user",
            "-a",
            "demo",
            "demo",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout)["name"] == "demo"
    loaded = json.loads(done.stderr)
    assert not [m for m in loaded if m.startswith(("click", "keyring", "hashlib"))]
    assert "nacl.bindings" not in loaded  # libsodium through nacl._sodium only
