"""nscpy's public Python API: stores, operators, accounts, users, keys and creds, for scripts
and services. Stable within a major version (see docs/api.md); nothing here prints.

    from nscpy.api import Store, PermissionSpec
    store = Store.open(home="/srv/nsc")
    with store.transaction():
        store.add_operator("O")
        store.add_account("O", "A")
        store.add_user("O", "A", "alice", permissions=PermissionSpec(allow_pub=["orders.>"]))

Stateless issuance (no store, one signature per user): `UserIssuer(seed).issue("alice")`.
The CLI's commands call the same functions (nscpy.actions) that these methods call.
"""

from __future__ import annotations

from nscpy.actions.activation import Activation
from nscpy.actions.authcallout import AuthCalloutEdit
from nscpy.actions.connection import Connection
from nscpy.actions.delete import DeleteAccount, DeleteUsers
from nscpy.actions.edit_account import AccountEdit, JetStreamEdit
from nscpy.actions.edit_limits import LimitsEdit
from nscpy.actions.edit_operator import OperatorEdit
from nscpy.actions.edit_signing_key import ScopeEdit
from nscpy.actions.entities import Saved
from nscpy.actions.errors import ActionError, NoSigner, UsageProblem
from nscpy.actions.exports import ExportChange
from nscpy.actions.imports import ImportSpec
from nscpy.actions.keyfiles import ExportSpec
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.push import PushOutcome, PushSpec
from nscpy.actions.report import Report
from nscpy.actions.revocations import Revocation
from nscpy.api.issue import IssuedUser, UserIssuer, issue_user
from nscpy.api.provisioning import ROTATION_PHASES, read_spec
from nscpy.api.store import Store, TransactionError
from nscpy.errors import NscError, NscValueError
from nscpy.store.errors import (
    AlreadyExists,
    KeyConflict,
    NotFound,
    StoreError,
    StoreLocked,
)

__all__ = [
    "ROTATION_PHASES",
    "AccountEdit",
    "Activation",
    "ActionError",
    "AlreadyExists",
    "AuthCalloutEdit",
    "Connection",
    "DeleteAccount",
    "DeleteUsers",
    "ExportChange",
    "ExportSpec",
    "ImportSpec",
    "IssuedUser",
    "JetStreamEdit",
    "KeyConflict",
    "LimitsEdit",
    "NoSigner",
    "NotFound",
    "NscError",
    "NscValueError",
    "OperatorEdit",
    "PermissionSpec",
    "PushOutcome",
    "PushSpec",
    "Report",
    "Revocation",
    "Saved",
    "ScopeEdit",
    "Store",
    "StoreError",
    "StoreLocked",
    "TransactionError",
    "UsageProblem",
    "UserIssuer",
    "issue_user",
    "read_spec",
]
