"""`generate diagram component|object`: the store as a picture, in PlantUML (as nsc writes it),
Mermaid (renders on GitHub) or Graphviz DOT.

The store is read once into a small graph (nodes and edges, pure data); each format is a
renderer over that graph, so the three pictures always show the same things.
- component: accounts that export or import, their exports as interfaces, and each import as a
  dashed arrow to the export it uses (a missing exporter or export is drawn and flagged).
- object: the operator, its accounts (and with `users`, their users), who signed whom, and
  with `show_keys` the signing keys and whether their seeds are stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, Export, Import
from nscpy.jwt.subject import is_contained_in

FORMATS = ("plantuml", "mermaid", "dot")


@dataclass
class Node:
    """A box in the picture: an id safe in every format, a label, a kind and detail lines."""

    id: str
    label: str
    kind: str  # operator | account | system account | user | export | missing export | keys
    lines: list[str] = field(default_factory=list)


@dataclass
class Edge:
    """An arrow: dashed for imports and references, with an optional label."""

    src: str
    dst: str
    label: str = ""
    dashed: bool = False


@dataclass
class Graph:
    """What a diagram shows, independent of its format."""

    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _node_id(*parts: str) -> str:
    """An identifier every format accepts: letters, digits and underscores."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _accounts(ws: Workspace, operator: str) -> list[tuple[str, AccountClaims]]:
    return [(name, load_account(ws, operator, name)) for name in ws.store.list_accounts(operator)]


def _export_for(exporter: AccountClaims | None, imp: Import) -> Export | None:
    if exporter is None:
        return None
    for export in exporter.exports:
        if export.type == imp.type and is_contained_in(imp.subject, export.subject):
            return export
    return None


def component_graph(ws: Workspace, operator: str | None = None) -> Graph:
    """Accounts, their exports and the imports that use them."""
    op_name = ws.operator_name(operator)
    accounts = _accounts(ws, op_name)
    by_key = {claims.subject: claims for _, claims in accounts}
    graph = Graph(f"Component Diagram of Accounts - Operator {op_name}")
    for name, claims in accounts:
        if not (claims.imports or claims.exports):
            continue
        graph.nodes.append(Node(claims.subject, name, "account"))
        for exp in claims.exports:
            access = "private" if exp.token_req else "public"
            export_id = _node_id(claims.subject, exp.type, exp.subject)
            label = exp.name or exp.subject
            graph.nodes.append(Node(export_id, label, "export", [f"{access} {exp.type}"]))
            graph.edges.append(Edge(export_id, claims.subject, exp.subject))
    for name, claims in accounts:
        for imp in claims.imports:
            exporter = by_key.get(imp.account)
            found = _export_for(exporter, imp)
            if found is None:
                missing_id = _node_id(imp.account, imp.type, imp.subject)
                if missing_id not in {n.id for n in graph.nodes}:
                    why = "exporting account not present" if exporter is None else "no such export"
                    graph.nodes.append(
                        Node(missing_id, imp.subject, "missing export", [f"{imp.type}: {why}"])
                    )
                target = missing_id
                graph.notes.append(f"{name} imports {imp.subject!r} from {imp.account}: not found")
            else:
                target = _node_id(imp.account, found.type, found.subject)
            local = imp.local_subject or imp.to
            label = (
                imp.subject if not local or local == imp.subject else f"{imp.subject} as {local}"
            )
            graph.edges.append(Edge(claims.subject, target, label, dashed=True))
    return graph


def object_graph(
    ws: Workspace,
    operator: str | None = None,
    *,
    users: bool = False,
    show_keys: bool = False,
) -> Graph:
    """The operator, its accounts (and users), who signed whom, and signing keys."""
    op_name = ws.operator_name(operator)
    op = load_operator(ws, op_name)
    graph = Graph("Object Diagram")
    op_lines = [f"Strict signing key usage = {str(op.strict_signing_key_usage).lower()}"]
    graph.nodes.append(
        Node(op.subject, op_name, "operator", _key_lines(ws, op.subject, show_keys) + op_lines)
    )
    _signing_keys(ws, graph, op.subject, op_name, op.signing_keys, show_keys)
    for name, acct in _accounts(ws, op_name):
        kind = "system account" if acct.subject == op.system_account else "account"
        graph.nodes.append(Node(acct.subject, name, kind, _key_lines(ws, acct.subject, show_keys)))
        _signing_keys(ws, graph, acct.subject, name, list(acct.signing_keys), show_keys)
        graph.edges.append(
            Edge(_signer_node(op.subject, acct.issuer, show_keys), acct.subject, "signed")
        )
        if not users:
            continue
        for user in ws.store.list_users(op_name, name):
            claims = load_user(ws, op_name, name, user)
            lines = _key_lines(ws, claims.subject, show_keys)
            lines += [f"Pub Allow = {s}" for s in claims.pub.allow]
            lines += [f"Sub Allow = {s}" for s in claims.sub.allow]
            graph.nodes.append(Node(claims.subject, user, "user", lines))
            graph.edges.append(
                Edge(_signer_node(acct.subject, claims.issuer, show_keys), claims.subject, "signed")
            )
    return graph


def _key_lines(ws: Workspace, key: str, show_keys: bool) -> list[str]:
    if not show_keys:
        return []
    return [f"Identity Key = {key}", f"Identity Key Present = {str(ws.keystore.has(key)).lower()}"]


def _signing_keys(
    ws: Workspace, graph: Graph, owner: str, name: str, keys: list[str], show_keys: bool
) -> None:
    if not (show_keys and keys):
        return
    lines = [f"{k} => {'stored' if ws.keystore.has(k) else 'not stored'}" for k in keys]
    graph.nodes.append(Node(f"{owner}_sk", f"{name} signing keys", "keys", lines))
    graph.edges.append(Edge(owner, f"{owner}_sk"))


def _signer_node(parent: str, issuer: str, show_keys: bool) -> str:
    """Arrows start at the parent, or at its signing-key box when keys are shown."""
    return parent if issuer == parent or not show_keys else f"{parent}_sk"


# -- renderers ---------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_plantuml(graph: Graph, footer: str) -> str:
    """PlantUML in nsc's shapes: components and interfaces, or objects."""
    out = ["@startuml", f"title {graph.title}"]
    for node in graph.nodes:
        if node.kind == "account" and graph.title.startswith("Component"):
            out.append(f"component [{node.label}] as {node.id} <<account>>")
        elif node.kind in ("export", "missing export"):
            stereo = ("not-found " if node.kind == "missing export" else "") + " ".join(node.lines)
            out.append(f'interface "{_quote(node.label)}" << {stereo} >> as {node.id}')
        elif node.kind == "keys":
            out.append(f'map "{_quote(node.label)}" as {node.id} {{')
            out += [line.replace(" => ", " => ") for line in node.lines] + ["}"]
        else:
            out.append(f'object "{_quote(node.label)}" as {node.id} << {node.kind} >> {{')
            out += node.lines + ["}"]
    for edge in graph.edges:
        arrow = "..>" if edge.dashed else "--"
        label = f' : "{_quote(edge.label)}"' if edge.label else ""
        out.append(f"{edge.src} {arrow} {edge.dst}{label}")
    for note in graph.notes:
        out.append(f"note as N{len(out)}\n{note}\nend note")
    out += [f"footer {footer}", "@enduml"]
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: Graph, footer: str) -> str:
    """A Mermaid flowchart (GitHub renders it in Markdown)."""
    out = ["---", f"title: {_mermaid_text(graph.title)}", "---", "flowchart LR"]
    for node in graph.nodes:
        label = "<br/>".join(_mermaid_text(t) for t in [f"{node.label} ({node.kind})", *node.lines])
        shape = ('(("', '"))') if node.kind in ("export", "missing export") else ('["', '"]')
        out.append(f"  {node.id}{shape[0]}{label}{shape[1]}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "---"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {edge.src} {arrow}{label} {edge.dst}")
    out += [f"  %% {footer}"]
    return "\n".join(out) + "\n"


def to_dot(graph: Graph, footer: str) -> str:
    """Graphviz DOT (`dot -Tsvg`)."""
    out = [
        f'digraph "{_quote(graph.title)}" {{',
        "  rankdir=LR;",
        f'  label="{_quote(graph.title)}\\n{_quote(footer)}";',
        "  node [fontname=Arial];",
    ]
    shapes = {"export": "ellipse", "missing export": "ellipse", "keys": "note"}
    for node in graph.nodes:
        label = "\\n".join(_quote(t) for t in [f"{node.label} ({node.kind})", *node.lines])
        extra = ", color=red" if node.kind == "missing export" else ""
        out.append(f'  {node.id} [shape={shapes.get(node.kind, "box")}, label="{label}"{extra}];')
    for edge in graph.edges:
        attrs = [f'label="{_quote(edge.label)}"'] if edge.label else []
        attrs += ["style=dashed"] if edge.dashed else ["dir=none"]
        out.append(f"  {edge.src} -> {edge.dst} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


RENDERERS = {"plantuml": to_plantuml, "mermaid": to_mermaid, "dot": to_dot}


def render(graph: Graph, fmt: str, ws: Workspace) -> str:
    """The graph in one of FORMATS, with nsc's footer line (store dir and date)."""
    import datetime as dt

    when = dt.datetime.fromtimestamp(ws.now(), tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return RENDERERS[fmt](
        graph, f"generated by nscpy - store dir: {ws.paths.data_dir} - date: {when}"
    )
