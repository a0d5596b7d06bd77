"""The provisioning spec as typed data: what `plan`/`apply` converge a store to.

Pure data: no files, no clock. Times that are relative ("90d") stay symbolic (``When``) until
the planner resolves them against an issue time, so the same spec signs the same claims.
Field names follow the CLI's flags (allow_pub for --allow-pub, conns for --conns, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nscpy.spec.permissions import Perms
from nscpy.spec.positions import KeyPath, Position

__all__ = [
    "GENERATE",
    "AccountSpec",
    "AuthCalloutSpec",
    "ExportSpec",
    "ImportSpec",
    "MappingSpec",
    "OperatorSpec",
    "SigningKeySpec",
    "Spec",
    "TraceSpec",
    "UserLimits",
    "UserSetSpec",
    "UserSpec",
    "When",
]

GENERATE = "generate"
"""A signing-key entry that asks for a key this store generates (and then keeps)."""


@dataclass(frozen=True)
class When:
    """A --start/--expiry value: 0 (none), an absolute Unix time, or count+unit after issue."""

    absolute: int = 0
    count: int = 0
    unit: str = ""

    @property
    def is_relative(self) -> bool:
        """True for "90d"-style values, which count from the JWT's issue time."""
        return bool(self.unit)

    def text(self) -> str:
        """The value as the spec spells it."""
        return f"{self.count}{self.unit}" if self.unit else str(self.absolute)


@dataclass
class UserLimits:
    """What a user (or a scoped signing key's template) may do."""

    perms: Perms = field(default_factory=Perms)
    subs: int | None = None
    data: int | None = None
    payload: int | None = None
    bearer: bool = False
    src: list[str] = field(default_factory=list)
    times: list[tuple[str, str]] = field(default_factory=list)
    locale: str = ""
    conn_types: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when nothing beyond the defaults is asked for (scoped users need this)."""
        return (
            self.perms.is_empty()
            and self.subs is None
            and self.data is None
            and self.payload is None
            and not self.bearer
            and not self.src
            and not self.times
            and not self.locale
            and not self.conn_types
        )


@dataclass
class UserSpec:
    """One user: its limits, or the scoped role that signs it; tags and validity."""

    name: str
    path: KeyPath
    role: str = ""
    limits: UserLimits = field(default_factory=UserLimits)
    tags: list[str] = field(default_factory=list)
    start: When = field(default_factory=When)
    expiry: When = field(default_factory=When)


@dataclass
class UserSetSpec:
    """A fleet: `count` users named by a format such as "dev-{n:05}", n from `first`."""

    name_format: str
    count: int
    first: int
    template: UserSpec
    path: KeyPath

    def names(self) -> list[str]:
        """The users' names, in order."""
        return [self.name_format.format(n=n) for n in range(self.first, self.first + self.count)]


@dataclass
class SigningKeySpec:
    """An account signing key: plain, or scoped (role + user template)."""

    key: str
    path: KeyPath
    role: str = ""
    description: str = ""
    template: UserLimits | None = None

    @property
    def scoped(self) -> bool:
        """True for a key with a role (its users take the template's permissions)."""
        return bool(self.role)


@dataclass
class ExportSpec:
    """An account export (add export's flags)."""

    subject: str
    path: KeyPath
    name: str = ""
    type: str = "stream"
    private: bool = False
    response_type: str = ""
    response_threshold_ns: int = 0
    latency: str = ""
    sampling: int = 0
    allow_trace: bool = False
    account_token_position: int = 0
    advertise: bool = False
    description: str = ""
    info_url: str = ""
    revocations: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportSpec:
    """An account import: from a spec account (by name) or any account (by public key)."""

    src_account: str
    remote_subject: str
    path: KeyPath
    name: str = ""
    type: str = "stream"
    local_subject: str = ""
    share: bool = False
    allow_trace: bool = False
    token: str = ""


@dataclass
class MappingSpec:
    """One weighted destination of a subject mapping."""

    to: str
    weight: int = 0
    cluster: str = ""


@dataclass
class AuthCalloutSpec:
    """Auth callout: users (names in this account or U keys), allowed accounts, curve key."""

    auth_users: list[str] = field(default_factory=list)
    allowed_accounts: list[str] = field(default_factory=list)
    curve: str = ""


@dataclass
class TraceSpec:
    """Message tracing destination and sampling."""

    subject: str
    sampling: int = 0


@dataclass
class AccountSpec:
    """One account, with its template fields already merged in."""

    name: str
    path: KeyPath
    description: str = ""
    info_url: str = ""
    tags: list[str] = field(default_factory=list)
    start: When = field(default_factory=When)
    expiry: When = field(default_factory=When)
    limits: dict[str, int | bool] = field(default_factory=dict)
    jetstream: dict[str, int | bool] | None = None
    jetstream_tiers: dict[str, dict[str, int | bool]] = field(default_factory=dict)
    default_permissions: Perms = field(default_factory=Perms)
    signing_keys: list[SigningKeySpec] = field(default_factory=list)
    exports: list[ExportSpec] = field(default_factory=list)
    imports: list[ImportSpec] = field(default_factory=list)
    mappings: dict[str, list[MappingSpec]] = field(default_factory=dict)
    auth_callout: AuthCalloutSpec | None = None
    trace: TraceSpec | None = None
    revocations: dict[str, int] = field(default_factory=dict)
    users: dict[str, UserSpec] = field(default_factory=dict)
    user_sets: list[UserSetSpec] = field(default_factory=list)

    def all_users(self) -> list[UserSpec]:
        """Named users, then each fleet's users, in spec order."""
        out = list(self.users.values())
        for fleet in self.user_sets:
            for name in fleet.names():
                t = fleet.template
                out.append(UserSpec(name, fleet.path, t.role, t.limits, t.tags, t.start, t.expiry))
        return out

    def scope(self, role: str) -> SigningKeySpec | None:
        """The scoped signing key of this role, if declared."""
        return next((k for k in self.signing_keys if k.role == role), None)


@dataclass
class OperatorSpec:
    """The operator: name, signing keys, strict mode, URLs, system account."""

    name: str
    path: KeyPath
    signing_keys: list[str] = field(default_factory=list)
    strict: bool = False
    service_urls: list[str] = field(default_factory=list)
    account_server_url: str = ""
    system_account: str = ""
    tags: list[str] = field(default_factory=list)
    start: When = field(default_factory=When)
    expiry: When = field(default_factory=When)


@dataclass
class Spec:
    """A whole spec: one operator and its accounts, in spec order."""

    operator: OperatorSpec
    accounts: dict[str, AccountSpec] = field(default_factory=dict)
    locate: Callable[[KeyPath], Position] = field(
        default=lambda path: Position("<spec>", 1, 1), repr=False, compare=False
    )
    """Where a key path was written (for problems found after parsing)."""

    def user_count(self) -> int:
        """Named users plus every fleet's count."""
        return sum(len(a.users) + sum(s.count for s in a.user_sets) for a in self.accounts.values())
