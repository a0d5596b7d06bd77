"""The shape of a checkout, in figures a reviewer can compare before and after a structural pass.

Reads the Python sources of nscpy/ and server_stub/ under CHECKOUT (default: this repository)
with `ast` only (nothing is imported or run) and prints:

1. Module sizes: how many modules, and every file over --split lines (default 500; the house
   style is ~300 lines per module, split past 500).

2. Import cycles among nscpy/ and server_stub/ modules, as strongly connected components of the
   import graph, each with one shortest cycle through it. Two graphs:
   - module level: the imports that run when a module is first imported (top level, inside
     if/try/with/class at top level) — a cycle here makes behaviour depend on import order;
   - all imports: the above plus imports inside functions and methods, and dynamic imports
     (importlib.import_module("nscpy.x"), and a module's name in a dict/tuple/list literal as
     nscpy._lazy's homes and codec's claim-class table hold them). A cycle that is only here
     is deferred: it works, but the modules in it cannot be understood (or moved) apart.
   Edges: `import a.b` and `from a.b import c` go to a.b.c when that is a module, else to a.b
   (the nearest known module); relative imports are resolved against the importing package.
   The implicit import of parent packages is not an edge (every submodule would otherwise be in a
   cycle with an __init__ that re-exports it). `if TYPE_CHECKING:` blocks are left out.

3. "isinstance after decode" sites — the pattern typed decoders replace: in one function, a
   name bound to the result of a call whose callee's name contains "decode" (decode, jwt.decode,
   _decode, _decoded...), later tested with isinstance(name, X) where X (or one member of a tuple
   X) is a name ending in "Claims"; and isinstance(<such a call>, XClaims) directly. One site per
   isinstance test. isinstance chains on a parameter (a printer dispatching on the claim kind)
   are not decode sites and are not counted.

4. "peek used as a lookup" sites: nscpy.jwt.peek parses claims WITHOUT checking the signature
   and its docstring says display only. Every call of a function named `peek` that is not a
   method call on `self` (parsers have their own peek()) counts, except in display modules —
   files named describe*.py, list.py or listing*.py (the `describe` and `list` commands and
   their actions), where reading unverified claims to show them is the point — and lines
   marked `# peek: not a lookup` (a reviewed use where the unverified claims decide nothing:
   a label, a key the server then judges).

Run: .venv/bin/python bench/structure_report.py [CHECKOUT] [--split 500] [--list]
(--list prints every counted site; without it the first few of each kind.)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("nscpy", "server_stub")
DISPLAY_MODULE_PREFIXES = ("describe", "listing")
DISPLAY_MODULES = ("list",)
REVIEWED_MARK = "# peek: not a lookup"
SHOWN = 5  # sites shown per kind without --list


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    tree: ast.Module
    source_lines: list[str]
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports resolve against."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass
class Edges:
    module_level: dict[str, set[str]] = field(default_factory=dict)
    all_imports: dict[str, set[str]] = field(default_factory=dict)


def load_modules(root: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            text = path.read_text(encoding="utf-8")
            name = ".".join(parts)
            modules[name] = Module(
                name,
                rel,
                text.count("\n"),
                ast.parse(text, str(rel)),
                text.splitlines(),
                is_package,
            )
    return modules


# -- the import graph ------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nearest_module(dotted: str, known: dict[str, Module]) -> str | None:
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def _targets(
    node: ast.Import | ast.ImportFrom, module: Module, known: dict[str, Module]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            found = _nearest_module(alias.name, known)
            if found:
                yield found
        return
    if node.level:
        base = module.package.split(".")
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    for alias in node.names:
        if f"{origin}.{alias.name}" in known:
            yield f"{origin}.{alias.name}"
        else:
            found = _nearest_module(origin, known)
            if found:
                yield found


def _walk_imports(
    body: Iterable[ast.stmt], in_function: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """(import statement, inside a function?) for every import outside TYPE_CHECKING blocks."""
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt, in_function
        elif isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            yield from _walk_imports(stmt.orelse, in_function)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _walk_imports(stmt.body, True)
        else:
            for child_body in _child_bodies(stmt):
                yield from _walk_imports(child_body, in_function)


def _child_bodies(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        value = getattr(stmt, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value
    for handler in getattr(stmt, "handlers", []):
        yield handler.body
    for case in getattr(stmt, "cases", []):
        yield case.body


def _dynamic_targets(module: Module, known: dict[str, Module]) -> set[str]:
    """Modules imported by name at run time: the string argument of importlib.import_module()
    or __import__(), and strings in dict/tuple/list/set literals naming a known module (the
    homes of nscpy._lazy re-exports, codec's table of claim classes). Other strings that happen
    to be a module's name (logger names, queue names) are not imports."""
    found: set[str] = set()
    for node in ast.walk(module.tree):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Call) and _callee_name(node) in ("import_module", "__import__"):
            candidates = node.args[:1]
        elif isinstance(node, ast.Dict):
            candidates = [k for k in node.keys if k is not None] + node.values
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            candidates = node.elts
        found |= {
            c.value
            for c in candidates
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in known
        }
    return found


def import_edges(modules: dict[str, Module]) -> Edges:
    edges = Edges()
    for name, module in modules.items():
        top: set[str] = set()
        every: set[str] = set()
        for node, in_function in _walk_imports(module.tree.body, False):
            for target in _targets(node, module, modules):
                if target == name:
                    continue
                every.add(target)
                if not in_function:
                    top.add(target)
        every |= _dynamic_targets(module, modules) - {name}
        edges.module_level[name] = top
        edges.all_imports[name] = every
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: (-len(c), c))


def shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first, inside it)."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(graph.get(node, ())):
            if succ not in members:
                continue
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if succ not in came_from:
                came_from[succ] = node
                queue.append(succ)
    return component


# -- the two anti-patterns -------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text.strip()}"


def _callee_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_decode_call(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and "decode" in _callee_name(node)


def _names_claims(node: ast.expr) -> bool:
    """isinstance's second argument names a *Claims class (or a tuple holding one)."""
    if isinstance(node, ast.Tuple):
        return any(_names_claims(e) for e in node.elts)
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return isinstance(name, str) and name.endswith("Claims")


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function body, not those of functions nested in it."""
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def isinstance_after_decode(module: Module) -> list[Site]:
    sites: list[Site] = []
    for function in _functions(module.tree):
        nodes = list(_own_nodes(function))
        decoded: set[str] = set()
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_decode_call(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                decoded |= {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.NamedExpr) and _is_decode_call(node.value):
                decoded.add(node.target.id)
        for node in nodes:
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "isinstance"
                and len(node.args) == 2
                and _names_claims(node.args[1])
            ):
                continue
            subject = node.args[0]
            if (isinstance(subject, ast.Name) and subject.id in decoded) or _is_decode_call(
                subject
            ):
                sites.append(Site(module.path, node.lineno, module.source_lines[node.lineno - 1]))
    return sorted(set(sites), key=lambda s: s.line)


def peek_as_lookup(module: Module) -> list[Site]:
    stem = module.path.stem
    if stem.startswith(DISPLAY_MODULE_PREFIXES) or stem in DISPLAY_MODULES:
        return []
    sites = []
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Call) and _callee_name(node) == "peek"):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "self"
        ):
            continue
        text = module.source_lines[node.lineno - 1]
        if REVIEWED_MARK in text:
            continue
        sites.append(Site(module.path, node.lineno, text))
    return sorted(sites, key=lambda s: s.line)


# -- the report ------------------------------------------------------------------------------


def _by_directory(sites: list[Site]) -> str:
    counts: dict[str, int] = {}
    for site in sites:
        directory = str(site.path.parent)
        counts[directory] = counts.get(directory, 0) + 1
    return ", ".join(f"{d}/ {n}" for d, n in sorted(counts.items()))


def _show(sites: list[Site], every: bool) -> list[str]:
    shown = sites if every else sites[:SHOWN]
    lines = [f"    by directory: {_by_directory(sites)}"] if sites else []
    lines += [f"    {site}" for site in shown]
    if len(shown) < len(sites):
        lines.append(f"    ... and {len(sites) - len(shown)} more (--list)")
    return lines


def report(root: Path, split: int, every: bool) -> str:
    modules = load_modules(root)
    out: list[str] = [f"structure of {root.resolve()}", ""]

    big = sorted((m for m in modules.values() if m.lines > split), key=lambda m: -m.lines)
    total = sum(m.lines for m in modules.values())
    over_300 = sum(1 for m in modules.values() if m.lines > 300)
    out.append(
        f"modules: {len(modules)} ({total} lines); over 300 lines: {over_300}; "
        f"over {split} lines: {len(big)}"
    )
    out += [f"    {m.lines:5d}  {m.path}" for m in big]
    out.append("")

    edges = import_edges(modules)
    top_cycles = cycles(edges.module_level)
    all_cycles = cycles(edges.all_imports)
    top_sets = [set(c) for c in top_cycles]
    deferred = [c for c in all_cycles if set(c) not in top_sets]
    for title, graph, found in (
        ("import cycles, module level", edges.module_level, top_cycles),
        ("import cycles, all imports (with function-level and dynamic)", edges.all_imports,
         all_cycles),
    ):  # fmt: skip
        modules_in = sum(len(c) for c in found)
        out.append(f"{title}: {len(found)} (modules in them: {modules_in})")
        for component in found:
            out.append(
                f"    {len(component)} modules: {' -> '.join(shortest_cycle(graph, component))}"
            )
            if len(component) > 2:
                out.append(f"        all: {', '.join(component)}")
    out.append(f"    of which only through function-level or dynamic imports: {len(deferred)}")
    out.append("")

    decode_sites = [s for m in modules.values() for s in isinstance_after_decode(m)]
    peek_sites = [s for m in modules.values() for s in peek_as_lookup(m)]
    out.append(f"isinstance after decode: {len(decode_sites)}")
    out += _show(decode_sites, every)
    out.append(f"peek used as a lookup: {len(peek_sites)}")
    out += _show(peek_sites, every)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--split", type=int, default=500, help="report modules over this size")
    parser.add_argument("--list", action="store_true", help="print every counted site")
    args = parser.parse_args(argv)
    root = Path(args.checkout)
    if not all((root / package).is_dir() for package in PACKAGES):
        print(f"structure_report: {root} has no {' and '.join(PACKAGES)}", file=sys.stderr)
        return 2
    print(report(root, args.split, args.list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
