"""Provisioning and key hygiene: plan/apply a spec, export a store as a spec, renew users, rotate
signing keys, and start a store from an operator JWT. Each is the action its command calls."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nscpy.actions.errors import UsageProblem
from nscpy.api.base import StoreBase

if TYPE_CHECKING:
    from nscpy.actions.apply import ApplyResult
    from nscpy.actions.changes import Plan
    from nscpy.actions.connection import Connection
    from nscpy.actions.entities import Saved
    from nscpy.actions.renew import RenewReport
    from nscpy.actions.rotation import RotationReport
    from nscpy.spec.model import Spec

__all__ = ["ROTATION_PHASES", "Provisioning", "read_spec"]

ROTATION_PHASES = ("start", "push", "finish", "emergency")


def read_spec(
    files: Sequence[str | Path], variables: Sequence[str] = (), var_files: Sequence[str | Path] = ()
) -> Spec:
    """A provisioning spec from TOML files (merged in order), with NAME=VALUE variables."""
    from nscpy.actions.spec_files import read_spec as read

    return read([Path(f) for f in files], variables, [Path(v) for v in var_files])


class Provisioning(StoreBase):
    """plan / apply / export spec, renew users, signing-key rotations, init from an operator."""

    def plan(self, spec: Spec, *, prune: bool = False) -> Plan:
        """What apply would change to make the store match spec (nothing is written)."""
        from nscpy.actions.plan import make_plan

        return make_plan(self.workspace, spec, prune=prune)

    def apply(self, spec: Spec, *, prune: bool = False, dry_run: bool = False) -> ApplyResult:
        """Converge the store to spec (prune: also delete what the spec does not name)."""
        from nscpy.actions.apply import apply_spec

        return self._write(lambda: apply_spec(self.workspace, spec, prune=prune, dry_run=dry_run))

    def export_spec(self, operator: str) -> dict[str, Any]:
        """The store's operator and accounts as a spec tree (write it with spec_to_toml)."""
        from nscpy.actions.export_spec import export_spec

        return export_spec(self.workspace, self._operator(operator))

    def init_from_operator(self, token: str, name: str | None = None) -> list[Saved]:
        """Import an operator JWT and add account and user `name` (default: the operator's)."""
        from nscpy.actions.init import init_from_operator

        return self._write(lambda: init_from_operator(self.workspace, token, name))

    def renew_users(
        self,
        operator: str,
        *,
        within: int,
        expiry: int,
        account: str | None = None,
        dry_run: bool = False,
    ) -> RenewReport:
        """Re-issue users expiring at or before `within` with the new `expiry` (Unix seconds)."""
        from nscpy.actions.renew import RenewSpec, renew_users

        spec = RenewSpec(
            within,
            expiry,
            account=None if account is None else self._account(operator, account),
            operator=self._operator(operator),
            dry_run=dry_run,
        )
        return self._write(lambda: renew_users(self.workspace, spec))

    def rotate_signing_key(
        self,
        operator: str,
        account: str,
        phase: str,
        *,
        key: str | None = None,
        role: str | None = None,
        connection: Connection | None = None,
        dry_run: bool = False,
    ) -> RotationReport:
        """One phase of an account signing-key rotation (start, push, finish, emergency).

        Rotations keep their own resumable record of progress, so a phase runs under the store
        lock but is not rolled back when it fails: run the phase again to resume it."""
        from nscpy.actions.connection import Connection
        from nscpy.actions.rotate import RotateSpec, emergency, finish, push_phase, start

        spec = RotateSpec(
            account=self._account(operator, account),
            operator=operator,
            key=key,
            role=role,
            dry_run=dry_run,
        )
        conn = connection or Connection()
        conn.operator = operator
        with self._locked():
            if _phase(phase) == "start":
                return start(self.workspace, spec)
            step = {"push": push_phase, "finish": finish}.get(phase, emergency)
            return step(self.workspace, spec, conn)

    def rotate_operator_signing_key(
        self,
        operator: str,
        phase: str,
        *,
        key: str | None = None,
        connection: Connection | None = None,
        dry_run: bool = False,
    ) -> RotationReport:
        """One phase of an operator signing-key rotation (start, push, finish, emergency);
        resumable like rotate_signing_key."""
        from nscpy.actions.connection import Connection
        from nscpy.actions.rotate_operator import (
            OperatorRotateSpec,
            emergency,
            finish,
            push_phase,
            start,
        )

        spec = OperatorRotateSpec(key=key, operator=self._operator(operator), dry_run=dry_run)
        conn = connection or Connection()
        conn.operator = operator
        with self._locked():
            if _phase(phase) == "start":
                return start(self.workspace, spec)
            step = {"push": push_phase, "finish": finish}.get(phase, emergency)
            return step(self.workspace, spec, conn)


def _phase(phase: str) -> str:
    if phase not in ROTATION_PHASES:
        raise UsageProblem(f"phase must be one of {', '.join(ROTATION_PHASES)}, got {phase!r}")
    return phase
