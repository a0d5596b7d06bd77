"""The example in nscpy/actions/__init__.py runs as written (doctest): it cannot drift from the
real signatures."""

from __future__ import annotations

import doctest

import nscpy.actions


def test_the_package_example_runs() -> None:
    result = doctest.testmod(nscpy.actions, raise_on_error=False, verbose=False)
    assert result.attempted >= 10, "the example lost its steps"
    assert result.failed == 0
