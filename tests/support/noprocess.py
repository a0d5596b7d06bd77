"""The fast loop's guard (`pytest --fast`, `make test-fast`): a test that starts a process fails.

`--fast` deselects the tests marked `e2e` (they start nats-server, the stub as a process, Go
builds, the CLI as a subprocess) and, for every test that is left, replaces the few functions
through which Python starts a process — `subprocess.Popen._execute_child` (subprocess.run and
friends, asyncio's subprocesses), `_posixsubprocess.fork_exec` (multiprocessing's spawn and
forkserver), `os.fork`/`os.forkpty` (multiprocessing's fork, pty), `os.posix_spawn[p]` and
`os.system` — with one that refuses. The test then fails, saying what it started and from where,
even if the code under test caught the refusal: a new process-starting test cannot slip into the
fast loop unmarked; it gets the marker or fails there.

Every test under tests/e2e/ and tests/interop/ (the folders of process-starting tests) is marked
`e2e` whatever its module says; elsewhere the marker is written on the test or its module.

The guard is on only while a test runs (setup, call, teardown), in the process that runs it: the
pytest-xdist controller still starts its workers. One library starts a process the first time it
is used in a process, whichever test that is: keyring loads every backend, and its macOS one calls
ctypes.util.find_library, which runs ldconfig. `_warm_up` does that before the first test.
"""

from __future__ import annotations

import _posixsubprocess  # type: ignore[import-not-found]
import os
import subprocess
import traceback
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

FAST_OPTION = "--fast"
MARKER = "e2e"
PROCESS_FOLDERS = ("e2e", "interop")  # under tests/: every test there is marked e2e

_FRAMES = 10  # of the stack that started the process, shown in the failure

# (owner, attribute): every way the standard library starts a process ends in one of these
_SPAWNERS: tuple[tuple[Any, str], ...] = (
    (subprocess.Popen, "_execute_child"),
    (_posixsubprocess, "fork_exec"),
    (os, "fork"),
    (os, "forkpty"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
    (os, "system"),
)


class ProcessStarted(RuntimeError):
    """Raised in place of starting a process under `--fast`."""


class _Guard:
    def __init__(self) -> None:
        self.started: list[str] = []  # what the current test tried to start, and from where

    def _refuser(self, name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            what = _describe(name, args)
            stack = [f for f in traceback.extract_stack()[:-1] if not _is_runner(f.filename)]
            where = "".join(traceback.format_list(stack[-_FRAMES:]))
            self.started.append(f"{what}, from:\n{where}")
            raise ProcessStarted(f"pytest --fast: this test starts a process ({what})")

        return refuse

    @contextmanager
    def active(self) -> Iterator[None]:
        saved = [(owner, attr, getattr(owner, attr)) for owner, attr in _SPAWNERS]
        try:
            for owner, attr, _ in saved:
                setattr(owner, attr, self._refuser(f"{getattr(owner, '__name__', owner)}.{attr}"))
            yield
        finally:
            for owner, attr, original in saved:
                setattr(owner, attr, original)


def _is_runner(filename: str) -> bool:
    """Frames of pytest and pluggy: noise in the "started from" stack."""
    return any(part in filename for part in ("/_pytest/", "/pluggy/", "<frozen importlib"))


def _describe(name: str, args: tuple[Any, ...]) -> str:
    """The spawner and, when it is there, the program: `fork_exec`'s and `posix_spawn`'s first
    arguments are the argv (a list of bytes or str) or the path; `_execute_child`'s come after
    the Popen."""
    if args and isinstance(args[0], subprocess.Popen):
        args = args[1:]
    if args and isinstance(args[0], (list, tuple)) and args[0]:
        program = args[0][0]
        program = program.decode(errors="replace") if isinstance(program, bytes) else program
        return f"{name}: {os.path.basename(str(program))}"
    if args and isinstance(args[0], (str, bytes)):
        first = args[0].decode(errors="replace") if isinstance(args[0], bytes) else args[0]
        return f"{name}: {first.split()[0] if first.split() else first}"
    return name


_GUARD = _Guard()
_warmed_up = False


def _warm_up() -> None:
    """Run, unguarded, what starts a process once per process whichever test comes first."""
    global _warmed_up
    if _warmed_up:
        return
    _warmed_up = True
    import keyring.backend

    keyring.backend.get_all_keyring()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        FAST_OPTION,
        action="store_true",
        default=False,
        help=f"the fast loop: deselect tests marked {MARKER} and fail any test that starts a "
        "process (tests/support/noprocess.py)",
    )


def _fast(config: pytest.Config) -> bool:
    return bool(config.getoption(FAST_OPTION))


def _in_process_folder(item: pytest.Item) -> bool:
    parts = item.path.parts
    return any(
        parts[i] == "tests" and parts[i + 1] in PROCESS_FOLDERS for i in range(len(parts) - 1)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(MARKER) is None and _in_process_folder(item):
            item.add_marker(MARKER)
    if not _fast(config):
        return
    kept = [item for item in items if item.get_closest_marker(MARKER) is None]
    dropped = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    if not _fast(item.config):
        yield
        return
    _warm_up()
    with _GUARD.active():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    outcome = yield
    if not _fast(item.config) or not _GUARD.started:
        return
    report: pytest.TestReport = outcome.get_result()
    started = "\n".join(dict.fromkeys(_GUARD.started))
    _GUARD.started.clear()
    report.outcome = "failed"
    report.longrepr = (
        f"{item.nodeid} starts a process but is not marked @pytest.mark.{MARKER}: mark it (or its "
        f"module: pytestmark = pytest.mark.{MARKER}) so `make test-fast` leaves it out, or make "
        f"the code under test not start one.\n{started}"
    )
