"""import keys / export keys: seeds in and out of the keystore as <PUBKEY>.nk files.

Both are all-or-nothing where nsc is file-by-file: every input is parsed and every conflict
found before the first write, so a bad file in a directory leaves the keystore (or the target
directory) as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nscpy import keys
from nscpy.actions.entities import load_operator, load_user, stored_account
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.report import Report
from nscpy.actions.workspace import Workspace
from nscpy.jwt import parse_decorated_seed
from nscpy.store import atomic
from nscpy.store.names import match_name

NK_SUFFIX = ".nk"


def store_seed(ws: Workspace, seed: str) -> str:
    """Keep a seed in the keystore (`generate nkey --store`); says where: a path or the keyring."""
    public_key = ws.keystore.put(seed)
    if type(ws.keystore.backend).__name__ == "FileSeedBackend":
        return str(ws.paths.key_path(public_key))
    return "in the OS keyring"


def _nk_files(directory: Path, recurse: bool) -> list[Path]:
    if not directory.is_dir():
        raise ActionError(f"{str(directory)!r} is not a directory")
    if recurse:
        found = [
            Path(root) / name
            for root, _dirs, names in os.walk(directory)
            for name in names
            if name.endswith(NK_SUFFIX)
        ]
    else:
        found = [p for p in directory.iterdir() if p.name.endswith(NK_SUFFIX) and p.is_file()]
    return sorted(found)


def _seed_in(path: Path) -> str:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionError(f"cannot read {str(path)!r}: {exc}") from None
    seed = parse_decorated_seed(text) if "-----" in text else text.strip()
    try:
        keys.from_seed(seed)
    except (keys.NKeyError, ValueError) as exc:
        raise ActionError(f"{str(path)!r} does not hold a valid seed: {exc}") from None
    return seed


def import_keys(ws: Workspace, directory: Path, *, recurse: bool = False) -> Report:
    """Store the seed of every *.nk file in directory (and below with recurse)."""
    files = _nk_files(directory, recurse)
    if not files:
        hint = "" if recurse else " (pass -R to look in subdirectories)"
        raise ActionError(f"no .nk files in {str(directory)!r}{hint}")
    seeds: dict[str, tuple[str, Path]] = {}
    for path in files:
        seed = _seed_in(path)
        public_key = keys.from_seed(seed).public_key
        earlier = seeds.get(public_key)
        if earlier is not None and earlier[0] != seed:
            raise ActionError(f"{str(path)!r} and {str(earlier[1])!r} hold different seeds")
        seeds[public_key] = (seed, path)
    present: list[str] = []
    for public_key, (seed, path) in seeds.items():
        stored = ws.keystore.get(public_key)
        if stored is None:
            continue
        if stored != seed:
            raise ActionError(f"the keystore holds a different seed for {public_key} ({path})")
        present.append(public_key)
    new = [pk for pk in seeds if pk not in present]
    with ws.keystore.batch() as batch:
        for public_key in new:
            ws.keystore.stage_put(batch, seeds[public_key][0])
    report = Report(data={"imported": sorted(new), "already_present": sorted(present)})
    for public_key in sorted(seeds):
        state = "already stored" if public_key in present else "imported"
        report.ok(f"{state} {public_key} ({seeds[public_key][1].name})")
    return report


@dataclass
class ExportSpec:
    """Which keys `export keys` copies (nsc's key collector flags)."""

    directory: Path
    operator: bool = False
    accounts: bool = False
    users: bool = False
    all: bool = False
    account: str | None = None
    user: str | None = None
    filter: str = ""
    not_referenced: bool = False
    include_jwts: bool = False
    force: bool = False
    remove: bool = False


@dataclass
class _Key:
    kind: str
    name: str
    public_key: str
    jwt: str | None = None


def _collect(ws: Workspace, spec: ExportSpec) -> list[_Key]:
    """The store's keys that the flags select (no flags: current operator, account, users)."""
    operator = ws.operator_name()
    want_op = spec.operator or spec.all
    want_acct = spec.accounts or spec.all
    want_users = spec.users or spec.all or bool(spec.user)
    if not (want_op or want_acct or want_users):
        want_op = want_acct = want_users = True
        scope = [ws.account_name(operator, spec.account)] if _has_accounts(ws, operator) else []
    elif spec.account:
        scope = [ws.account_name(operator, spec.account)]
    elif want_acct or spec.all:
        scope = ws.store.list_accounts(operator)
    elif want_users:
        scope = [ws.account_name(operator, None)]
    else:
        scope = []
    out: list[_Key] = []
    if want_op:
        token = ws.store.read_operator(operator)
        op = load_operator(ws, operator)
        out.append(_Key("operator", operator, op.subject, token))
        out += [_Key("operator signing key", operator, k) for k in op.signing_keys]
    for account in scope:
        token = ws.store.read_account(operator, account)
        acct = stored_account(token, account)
        if want_acct:
            out.append(_Key("account", account, acct.subject, token))
            out += [_Key("account signing key", account, k) for k in acct.signing_keys]
        if want_users:
            names = ws.store.list_users(operator, account)
            if spec.user:
                found = match_name(spec.user, names, "user")
                names = [found] if found is not None else []
            for user in names:
                utoken = ws.store.read_user(operator, account, user)
                subject = load_user(ws, operator, account, user).subject
                out.append(_Key("user", user, subject, utoken))
    if spec.user and not any(k.kind == "user" for k in out):
        raise ActionError(f"user {spec.user!r} does not exist in account(s) {', '.join(scope)}")
    return out


def _has_accounts(ws: Workspace, operator: str) -> bool:
    return bool(ws.store.list_accounts(operator))


def _unreferenced(ws: Workspace, spec: ExportSpec, referenced: set[str]) -> list[_Key]:
    roles = set()
    if spec.operator or spec.all:
        roles.add("O")
    if spec.accounts or spec.all:
        roles.add("A")
    if spec.users or spec.all:
        roles.add("U")
    if not roles:
        roles = {"O", "A", "U"}
    return [
        _Key("unreferenced " + info.role.role, "", info.public_key)
        for info in ws.keystore.list()
        if info.public_key not in referenced and info.public_key[0] in roles
    ]


def _all_referenced(ws: Workspace) -> set[str]:
    from nscpy.actions.listing import referenced_keys

    return {row["public_key"] for row in referenced_keys(ws)}


def export_keys(ws: Workspace, spec: ExportSpec) -> Report:
    """Copy the selected seeds (and with include_jwts the JWTs) into spec.directory."""
    if spec.not_referenced:
        selected = _unreferenced(ws, spec, _all_referenced(ws))
    else:
        selected = _collect(ws, spec)
    if spec.filter:
        needle = spec.filter.upper()
        selected = [k for k in selected if needle in k.public_key]
    report = Report(data={"directory": str(spec.directory), "exported": [], "skipped": []})
    writes: list[tuple[Path, str, str]] = []
    seen: set[str] = set()
    for key in selected:
        if key.public_key in seen:
            continue
        seen.add(key.public_key)
        seed = ws.keystore.get(key.public_key)
        if seed is None:
            report.warn(f"skipped {key.kind} {key.public_key}: no seed in the keystore")
            report.data["skipped"].append(key.public_key)
        else:
            writes.append((spec.directory / f"{key.public_key}{NK_SUFFIX}", seed, key.public_key))
        if spec.include_jwts and key.jwt is not None:
            writes.append((spec.directory / f"{key.public_key}.jwt", key.jwt, ""))
    if not any(pk for _, _, pk in writes):
        raise ActionError("no keys found to export (none selected, or no seeds stored)")
    if spec.directory.exists() and not spec.directory.is_dir():
        raise UsageProblem(f"--dir {str(spec.directory)!r} is not a directory")
    clashes = [p for p, _, _ in writes if p.exists()]
    if clashes and not spec.force:
        raise ActionError(f"{str(clashes[0])!r} already exists; pass --force to overwrite")
    for path, text, public_key in writes:
        atomic.atomic_write(path, text)
        if public_key:
            report.data["exported"].append(public_key)
            report.ok(f"exported {public_key}")
        else:
            report.ok(f"exported {path.name}")
    if spec.remove:
        for _, _, public_key in writes:
            if public_key and ws.keystore.remove(public_key):
                report.ok(f"removed {public_key} from the keystore")
    return report
