"""`pytest --fast` (make test-fast): e2e tests are left out, and an unmarked test that starts a
process fails — even when the code under test swallows the refusal (tests/support/noprocess.py)."""

from __future__ import annotations

import pytest

EXAMPLE = """
import asyncio, multiprocessing, os, subprocess, sys

import pytest


def test_pure():
    assert sum([1, 2]) == 3


def test_subprocess_run():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_refusal_swallowed():
    try:
        subprocess.run(["true"])
    except Exception:
        pass


def test_asyncio_subprocess():
    async def main():
        proc = await asyncio.create_subprocess_exec("true")
        await proc.wait()

    asyncio.run(main())


def test_multiprocessing_spawn():
    proc = multiprocessing.get_context("spawn").Process(target=print)
    proc.start()
    proc.join()


def test_os_system():
    os.system("true")


@pytest.fixture
def server():
    subprocess.Popen(["true"]).wait()


def test_in_a_fixture(server):
    pass


@pytest.mark.e2e
def test_marked():
    subprocess.run(["true"], check=True)
"""


def test_fast_fails_every_unmarked_process_start_and_leaves_out_e2e(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_example=EXAMPLE)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    e2e: starts a process\n"
    )
    result = pytester.runpytest_inprocess(
        "-p", "tests.support.noprocess", "-p", "no:cacheprovider", "--fast", "-q"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1, result.stdout.str()
    assert outcomes.get("failed") == 5 and outcomes.get("errors") == 1, result.stdout.str()
    assert outcomes.get("deselected") == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_in_a_fixture starts a process but is not marked*"])
    result.stdout.fnmatch_lines(["*test_refusal_swallowed starts a process*"])
    result.stdout.fnmatch_lines(["*Popen._execute_child: true*"])


def test_every_test_under_tests_e2e_and_interop_is_e2e(pytester: pytest.Pytester) -> None:
    for folder in ("e2e", "interop", "keys"):
        (pytester.path / "tests" / folder).mkdir(parents=True)
        (pytester.path / "tests" / folder / f"test_{folder}.py").write_text(
            "def test_unmarked():\n    pass\n"
        )
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    e2e: starts a process\n"
    )
    result = pytester.runpytest_inprocess(
        "-p", "tests.support.noprocess", "-p", "no:cacheprovider", "--fast", "-q", "-rA"
    )
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["PASSED tests/keys/test_keys.py::test_unmarked"])
