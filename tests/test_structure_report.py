"""bench/structure_report.py on a made-up checkout: each figure counts what its heuristic says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "structure_report.py"

FILES = {
    "nscpy/__init__.py": "",
    # a module-level cycle: a <-> b
    "nscpy/a.py": "from nscpy import b\n",
    "nscpy/b.py": "from . import a\n",
    # a cycle only through a function-level import, and one through a dynamic import
    "nscpy/c.py": "import nscpy.d\n",
    "nscpy/d.py": "def f():\n    from nscpy import c\n",
    "nscpy/e.py": "import importlib\nMOD = importlib.import_module('nscpy.f')\n",
    "nscpy/f.py": "import nscpy.e\n",
    # a logger named after a module is not an import of it
    "nscpy/i.py": "import logging\nimport nscpy.j\nlog = logging.getLogger('nscpy.j')\n",
    "nscpy/j.py": "import logging\nlog = logging.getLogger('nscpy.i')\n",
    # TYPE_CHECKING imports are not edges
    "nscpy/g.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nscpy import h\n",
    "nscpy/h.py": "from nscpy import g\n",
    "nscpy/actions/__init__.py": '"""nscpy.actions.sites: a docstring is not an import."""\n',
    "nscpy/actions/sites.py": """
from nscpy.jwt import AccountClaims, UserClaims, decode, peek


def typed(token):
    claims = decode(token)
    if not isinstance(claims, AccountClaims):
        raise ValueError(token)
    return isinstance(_decode(token), (UserClaims, AccountClaims))


def dispatch(claims):
    return isinstance(claims, UserClaims)


def text(raw):
    value = raw.decode("ascii")
    return isinstance(value, str)


def lookup(token, keys):
    shown = peek(token)  # peek: not a lookup
    return keys[peek(token).subject], shown


class Parser:
    def next(self):
        return self.peek()
""",
    "nscpy/actions/describe.py": "from nscpy.jwt import peek\n\nX = peek('t')\n",
    "nscpy/commands/list.py": "from nscpy.jwt import peek\n\nX = peek('t')\n",
    "server_stub/listeners.py": "from nscpy.jwt import peek\n\nX = peek('t')\n",
    "server_stub/__init__.py": "",
    "server_stub/big.py": "x = 1\n" * 501,
}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("structure_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("checkout")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return str(_load_script().report(root, 500, True))


def test_sizes_list_modules_over_the_limit(report: str) -> None:
    assert "modules: 18 " in report and "over 500 lines: 1" in report
    assert "  501  server_stub/big.py" in report


def test_cycles_module_level_and_deferred_are_told_apart(report: str) -> None:
    assert "import cycles, module level: 1 (modules in them: 2)" in report
    assert "2 modules: nscpy.a -> nscpy.b -> nscpy.a" in report
    assert "all imports (with function-level and dynamic): 3 (modules in them: 6)" in report
    assert "nscpy.c -> nscpy.d -> nscpy.c" in report and "nscpy.e -> nscpy.f -> nscpy.e" in report
    assert "only through function-level or dynamic imports: 2" in report
    assert "nscpy.g" not in report and "nscpy.i" not in report
    assert "nscpy.actions.sites ->" not in report


def test_isinstance_after_decode_counts_decoded_names_only(report: str) -> None:
    assert "isinstance after decode: 2\n" in report
    assert "sites.py:7: if not isinstance(claims, AccountClaims):" in report
    assert "sites.py:9: return isinstance(_decode(token), (UserClaims, AccountClaims))" in report


def test_peek_as_lookup_skips_display_modules_marks_and_parsers(report: str) -> None:
    assert "peek used as a lookup: 2\n" in report
    assert "server_stub/listeners.py:3: X = peek('t')" in report
    assert "sites.py:23: return keys[peek(token).subject], shown" in report
