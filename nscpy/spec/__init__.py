"""Provisioning specs: a TOML declaration of an operator, its accounts and users (pure).

``parse_spec`` turns spec texts into the typed model (``nscpy.spec.model``) or raises
``SpecError`` listing every problem as FILE:LINE:COL. Reading files, planning against a store
and applying live in ``nscpy.actions`` (spec_files, plan, apply, export_spec).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nscpy._lazy import lazy_exports

if TYPE_CHECKING:
    from nscpy.spec.errors import SpecError, SpecIssue
    from nscpy.spec.model import Spec
    from nscpy.spec.parse import parse_spec

__all__ = ["Spec", "SpecError", "SpecIssue", "parse_spec"]

# loaded on first use: the add/edit flags (actions.permspec) extend spec.model's permission
# fields, and should not pay for the TOML reader on every write command
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "nscpy.spec.errors": ("SpecError", "SpecIssue"),
        "nscpy.spec.model": ("Spec",),
        "nscpy.spec.parse": ("parse_spec",),
    },
    globals(),
)
