"""Config-file accounts: wire their exports and imports into the router at start-up."""

from __future__ import annotations

from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.errors import ConfigError
from server_stub.options import AccountSpec
from server_stub.router import Router, add_service_import, add_stream_import


def _exported(spec: AccountSpec, kind: str, subject: str, importer: str) -> bool:
    for export in spec.exports:
        if not isinstance(export, dict) or kind not in export:
            continue
        allowed = export.get("accounts")
        if allowed is not None and importer not in allowed:
            continue
        if subject_matches(str(export[kind]), subject) or export[kind] == subject:
            return True
    return False


def apply_accounts(router: Router, specs: list[AccountSpec], system_account: str) -> None:
    """Create the accounts and their imports; refuse imports nobody exported."""
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        router.account(spec.name).is_system = spec.name == system_account
    router.account(system_account).is_system = True
    for spec in specs:
        importer = router.account(spec.name)
        for entry in spec.imports:
            kind, source, to = _import_entry(entry, spec.name)
            exporter_spec = by_name.get(source["account"])
            if exporter_spec is None:
                raise ConfigError(f"account {spec.name}: import from unknown account {source}")
            subject = str(source["subject"])
            if not _exported(exporter_spec, kind, subject, spec.name):
                raise ConfigError(
                    f"account {spec.name}: {kind} {subject!r} is not exported"
                    f" by {exporter_spec.name} to {spec.name}"
                )
            exporter = router.account(exporter_spec.name)
            if kind == "stream":
                add_stream_import(importer, exporter, subject, to or subject)
            else:
                add_service_import(importer, exporter, subject, to or subject)


def _import_entry(entry: Any, account: str) -> tuple[str, dict[str, Any], str | None]:
    if not isinstance(entry, dict):
        raise ConfigError(f"account {account}: an import must be a map, got {entry!r}")
    for kind in ("stream", "service"):
        if kind in entry:
            source = entry[kind]
            if not isinstance(source, dict) or "account" not in source or "subject" not in source:
                raise ConfigError(f"account {account}: {kind} import needs {{account, subject}}")
            to = entry.get("to")
            if kind == "stream" and "prefix" in entry:
                to = f"{entry['prefix']}.{source['subject']}"
            return kind, source, str(to) if to is not None else None
    raise ConfigError(f"account {account}: an import needs 'stream' or 'service'")
