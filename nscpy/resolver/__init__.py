"""Talking to a nats-server's nats-based resolver over the system account: push, list, delete, pull.

Importing this package is cheap: nats-py is imported only when a connection is opened.
"""

from __future__ import annotations

from nscpy.resolver.client import (
    DELETE,
    LIST,
    PACK,
    UPDATE,
    account_lookup_subject,
    account_update_subject,
    connect,
    delete_accounts,
    delete_accounts_async,
    list_accounts,
    list_accounts_async,
    lookup,
    lookup_async,
    multi_request,
    pack,
    pack_async,
    push_accounts,
    push_accounts_async,
)
from nscpy.resolver.errors import (
    AuthorizationFailed,
    BadReply,
    NoReplies,
    NoResponders,
    NoServerReachable,
    NoSystemAccount,
    NoSystemSeed,
    PartialReplies,
    ResolverError,
    ServerRefused,
)
from nscpy.resolver.options import ConnectOptions, options_from_env
from nscpy.resolver.replies import ReplyError, ServerIdentity, ServerReply, parse_reply
from nscpy.resolver.reports import AccountPush, DeleteReport, ListReport, PushReport
from nscpy.resolver.sysuser import SystemUser, temporary_system_user
from nscpy.resolver.tokens import delete_request_jwt

__all__ = [
    "AccountPush",
    "AuthorizationFailed",
    "BadReply",
    "ConnectOptions",
    "DELETE",
    "DeleteReport",
    "LIST",
    "ListReport",
    "NoReplies",
    "NoResponders",
    "NoServerReachable",
    "NoSystemAccount",
    "NoSystemSeed",
    "PACK",
    "PartialReplies",
    "PushReport",
    "ReplyError",
    "ResolverError",
    "ServerIdentity",
    "ServerRefused",
    "ServerReply",
    "SystemUser",
    "UPDATE",
    "account_lookup_subject",
    "account_update_subject",
    "connect",
    "delete_accounts",
    "delete_request_jwt",
    "delete_accounts_async",
    "list_accounts",
    "list_accounts_async",
    "lookup",
    "lookup_async",
    "multi_request",
    "options_from_env",
    "pack",
    "pack_async",
    "parse_reply",
    "push_accounts",
    "push_accounts_async",
    "temporary_system_user",
]
