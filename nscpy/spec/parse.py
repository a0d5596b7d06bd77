"""Read a merged spec tree into the typed model, collecting every problem with its position.

The tree comes from nscpy.spec.document (TOML parsed, variables substituted, overlays merged);
templates are merged here, each account is read by nscpy.spec.accounts, and cross-references
(templates, roles, imports, the system account, auth-callout users) are checked once every
account is read.
"""

from __future__ import annotations

from collections.abc import Mapping

from nscpy.keys import is_valid_public_key
from nscpy.spec.accounts import read_account
from nscpy.spec.document import Document, load_document
from nscpy.spec.errors import SpecError
from nscpy.spec.model import GENERATE, AccountSpec, OperatorSpec, Spec
from nscpy.spec.positions import KeyPath
from nscpy.spec.reader import ACCOUNT_KEYS, OPERATOR_KEYS, TOP_KEYS, Reader, type_name

__all__ = ["parse_spec"]


# -- cross references ---------------------------------------------------------------------------
def _check_references(r: Reader, spec: Spec) -> None:
    folded: dict[str, str] = {}
    for name, a in spec.accounts.items():
        other = folded.get(name.casefold())
        if other is not None:
            r.bad(a.path, f"account {name!r} differs from account {other!r} only in case")
        folded[name.casefold()] = name
        _check_account_refs(r, spec, a)
    op = spec.operator
    sys_name = op.system_account
    if sys_name and not (
        sys_name in spec.accounts or (is_valid_public_key(sys_name) and sys_name.startswith("A"))
    ):
        r.bad(
            (*op.path, "system_account"),
            f"system_account {sys_name!r} is not an account of this spec",
        )
    sys_acct = spec.accounts.get(sys_name)
    if sys_acct is not None and (sys_acct.jetstream or sys_acct.jetstream_tiers):
        r.bad(sys_acct.path, f"the system account {sys_name!r} cannot have JetStream limits")
    if op.strict and not op.signing_keys:
        r.bad((*op.path, "strict"), "strict needs at least one operator signing key")


def _check_account_refs(r: Reader, spec: Spec, a: AccountSpec) -> None:
    names: dict[str, KeyPath] = {name: u.path for name, u in a.users.items()}
    for fleet in a.user_sets:
        for name in fleet.names():
            if name in names:
                r.bad(
                    (*fleet.path, "name"),
                    f"user set makes user {name!r}, which already exists in account {a.name!r}",
                )
                break
            names[name] = fleet.path
    for user in [*a.users.values(), *(f.template for f in a.user_sets)]:
        if user.role and a.scope(user.role) is None:
            roles = ", ".join(k.role for k in a.signing_keys if k.role) or "none"
            r.bad(
                (*user.path, "role"),
                f"role {user.role!r} is not a scoped signing key of account {a.name!r} "
                f"(roles: {roles})",
            )
    for imp in a.imports:
        src = spec.accounts.get(imp.src_account)
        if src is None:
            if not (is_valid_public_key(imp.src_account) and imp.src_account.startswith("A")):
                r.bad(
                    (*imp.path, "src_account"),
                    f"src_account {imp.src_account!r} is neither an account of this spec "
                    "nor an account public key",
                )
            continue
        if src is a:
            r.bad((*imp.path, "src_account"), "an account cannot import from itself")
            continue
        from nscpy.jwt.subject import is_contained_in

        covering = [
            e
            for e in src.exports
            if e.type == imp.type and is_contained_in(imp.remote_subject, e.subject)
        ]
        if not covering:
            r.bad(
                (*imp.path, "remote_subject"),
                f"account {src.name!r} has no {imp.type} export covering {imp.remote_subject!r}",
            )
    ac = a.auth_callout
    if ac is not None:
        for i, who in enumerate(ac.auth_users):
            if who not in names and not (is_valid_public_key(who) and who.startswith("U")):
                r.bad(
                    (*a.path, "auth_callout", "auth_users", i),
                    f"auth user {who!r} is not a user of account {a.name!r} or a public key",
                )
        for i, acct in enumerate(ac.allowed_accounts):
            if (
                acct != "*"
                and acct not in spec.accounts
                and not (is_valid_public_key(acct) and acct.startswith("A"))
            ):
                r.bad(
                    (*a.path, "auth_callout", "allowed_accounts", i),
                    f"allowed account {acct!r} is not an account of this spec, a public key or '*'",
                )


def _resolve_templates(doc: Document, r: Reader) -> None:
    templates = doc.get(("templates",))
    if templates is None:
        templates = {}
    if not isinstance(templates, dict):
        r.bad(("templates",), "templates must be a table of tables")
        templates = {}
    done: set[str] = set()

    def uses(path: KeyPath) -> list[tuple[str, KeyPath]]:
        body = doc.get(path)
        if not isinstance(body, dict) or "use" not in body:
            return []
        value = body["use"]
        names = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(names):
            where = (*path, "use", i) if isinstance(value, list) else (*path, "use")
            if not isinstance(item, str):
                r.bad(where, f"use must name a template (a string), got {type_name(item)}")
            elif item not in templates:
                known = ", ".join(sorted(templates)) or "none"
                r.bad(where, f"unknown template {item!r} (templates: {known})")
            else:
                out.append((item, where))
        return out

    def resolve(name: str, stack: list[str]) -> bool:
        if name in done:
            return True
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name) :], name])
            r.bad(("templates", name, "use"), f"templates use each other in a cycle: {cycle}")
            return False
        ok = True
        for parent, _ in reversed(uses(("templates", name))):
            if resolve(parent, [*stack, name]):
                doc.copy_under(("templates", name), ("templates", parent))
            else:
                ok = False
        done.add(name)
        return ok

    for name in templates:
        resolve(name, [])
    accounts = doc.get(("accounts",))
    if isinstance(accounts, dict):
        for name in accounts:
            # the account's own keys win, then the last template named, then earlier ones
            for parent, _ in reversed(uses(("accounts", name))):
                doc.copy_under(("accounts", name), ("templates", parent))
    for body in [
        *(templates.values()),
        *((accounts or {}).values() if isinstance(accounts, dict) else []),
    ]:
        if isinstance(body, dict):
            body.pop("use", None)


def parse_spec(sources: list[tuple[str, str]], variables: Mapping[str, str] | None = None) -> Spec:
    """The typed spec from TOML texts (base first, overlays after); SpecError lists all problems."""
    doc = load_document(sources, variables or {})
    if doc.issues:
        raise SpecError(doc.issues)
    r = Reader(doc)
    root = r.table(doc.data, (), TOP_KEYS, "the spec")
    _resolve_templates(doc, r)
    for name, body in (
        (root.get("templates") or {}).items() if isinstance(root.get("templates"), dict) else []
    ):
        # a template holds account fields; check them even when no account uses it
        r.table(body, ("templates", name), ACCOUNT_KEYS - {"use"}, f"template {name!r}")
    raw_op = root.get("operator")
    if raw_op is None:
        r.bad((), "the spec needs an [operator] table with a name")
        raw_op = {}
    op_t = r.table(raw_op, ("operator",), OPERATOR_KEYS, "[operator]")
    path: KeyPath = ("operator",)
    op = OperatorSpec(
        name=r.string(op_t, "name", path),
        path=path,
        signing_keys=r.strings(op_t, "signing_keys", path),
        strict=r.boolean(op_t, "strict", path),
        service_urls=r.strings(op_t, "service_urls", path),
        account_server_url=r.string(op_t, "account_server_url", path),
        system_account=r.string(op_t, "system_account", path),
        tags=r.strings(op_t, "tags", path),
        start=r.when(op_t, "start", path),
        expiry=r.when(op_t, "expiry", path),
    )
    if "name" not in op_t and raw_op:
        r.bad(path, "[operator] needs a name")
    elif op.name:
        r.name(op.name, (*path, "name"), "operator")
    for i, key in enumerate(op.signing_keys):
        if key != GENERATE and not (is_valid_public_key(key) and key.startswith("O")):
            r.bad(
                (*path, "signing_keys", i),
                f'signing key {key!r} is not "generate" or an operator public key',
            )
    from nscpy.jwt.operator import validate_operator_service_url

    for i, url in enumerate(op.service_urls):
        problem = validate_operator_service_url(url)
        if problem:
            r.bad((*path, "service_urls", i), problem)
    if op.account_server_url and "://" not in op.account_server_url:
        r.bad(
            (*path, "account_server_url"),
            f"account_server_url {op.account_server_url!r} needs a scheme such as nats:// or https://",
        )
    spec = Spec(op)
    accounts = root.get("accounts", {})
    if not isinstance(accounts, dict):
        r.bad(("accounts",), "accounts must be a table of account tables")
        accounts = {}
    for name, body in accounts.items():
        spec.accounts[name] = read_account(r, name, body, ("accounts", name))
    _check_references(r, spec)
    if doc.issues:
        raise SpecError(doc.issues)
    spec.locate = doc.position
    return spec
