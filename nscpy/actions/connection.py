"""How push, pull, plan/apply and rotate reach the operator's resolver, and as whom.

`Connection` is what the CLI's resolver flags (nscpy.commands.resolver_options) fill in and
what the Python API takes; `connect_options()` turns it into the nscpy.resolver
`ConnectOptions` of one connection. The target is `-u`, else the operator's account server
URL, else its service URLs. We connect as a two-minute system user minted from a
system-account seed in the keystore (nsc's rule), falling back to a stored system user with a
seed.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

from nscpy import keys, resolver
from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import unscoped_signer_keys
from nscpy.actions.verified import verified_users
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, JWTError, OperatorClaims, decode_account
from nscpy.resolver.http import is_account_server_url
from nscpy.resolver.options import RESOLVER_SCHEMES


@dataclass
class Connection:
    """How to reach the resolver and as whom (the resolver flags of push, pull and rotate).

    The TLS files are named as in nscpy.resolver and nats-server's tls block (ca_file,
    cert_file, key_file); the CLI spells them --ca-cert, --client-cert, --client-key.
    """

    url: str | None = None
    system_account: str | None = None
    system_user: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_first: bool = False
    timeout: float = 1.0
    expect: int | None = None
    operator: str | None = None
    # nscpy.api 0.1 named the TLS files after the CLI flags: those keywords still work
    ca_cert: InitVar[str | None] = None
    client_cert: InitVar[str | None] = None
    client_key: InitVar[str | None] = None

    def __post_init__(
        self, ca_cert: str | None, client_cert: str | None, client_key: str | None
    ) -> None:
        self.ca_file = self.ca_file or ca_cert
        self.cert_file = self.cert_file or client_cert
        self.key_file = self.key_file or client_key


@dataclass
class StoredAccounts:
    """An operator's claims and its accounts' stored JWTs, each file read and verified once.

    push -A needs every account three ways (to check and send it, to name the servers' replies,
    to find the system account's keys): one StoredAccounts serves all three.
    """

    operator: str
    claims: OperatorClaims
    tokens: dict[str, str]
    """Local account name -> its stored JWT (stripped)."""
    verified: dict[str, AccountClaims]
    """Local account name -> its claims, for the JWTs that verify as account JWTs."""
    problems: dict[str, JWTError] = field(default_factory=dict)
    """Local account name -> why its JWT does not verify."""

    @classmethod
    def read(cls, ws: Workspace, operator: str) -> StoredAccounts:
        """Read (and verify) the operator's JWT and every account JWT of it, once."""
        claims = load_operator(ws, operator)
        names = ws.store.list_accounts(operator)
        found = cls(
            operator, claims, {n: ws.store.read_account(operator, n).strip() for n in names}, {}
        )
        for name, token in found.tokens.items():
            try:
                found.verified[name] = decode_account(token)
            except JWTError as exc:
                found.problems[name] = exc
        return found

    @property
    def by_key(self) -> dict[str, str]:
        """Account public key -> local name (accounts whose JWT does not verify are left out)."""
        return {c.subject: name for name, c in self.verified.items()}


def target_urls(op: OperatorClaims, url: str | None) -> list[str]:
    """-u, else the account server URL, else the service URLs; only resolver schemes."""
    if url:
        urls = [u.strip() for u in url.split(",") if u.strip()]
    elif op.account_server_url:
        urls = [op.account_server_url]
    else:
        urls = list(op.operator_service_urls)
    if not urls:
        raise ActionError(
            f"operator {op.name!r} has no account server or service URL: pass -u nats://HOST:PORT "
            "or set one with 'nscpy edit operator -u nats://HOST:PORT'"
        )
    web = [u for u in urls if is_account_server_url(u)]
    if web and len(web) != len(urls):
        raise UsageProblem("pass either nats resolver URLs or one http(s) account server URL")
    if len(web) > 1:
        raise UsageProblem("pass one http(s) account server URL, not several")
    for u in urls:
        scheme = u.split("://", 1)[0].lower() if "://" in u else ""
        if scheme not in (*RESOLVER_SCHEMES, "http", "https"):
            raise UsageProblem(
                "server URL must start with nats://, tls://, ws://, wss:// (a nats-server) or "
                f"http(s):// (an account server), got {u!r}"
            )
    return urls


def _system_account(ws: Workspace, operator: str, op: OperatorClaims, wanted: str | None) -> str:
    if wanted:
        name = ws.lookup_account(operator, wanted)
        if name is not None:
            return load_account(ws, operator, name).subject
        if keys.is_valid_public_key(wanted) and wanted.startswith("A"):
            return wanted
        raise ActionError(f"system account {wanted!r} is not an account of operator {operator!r}")
    if not op.system_account:
        raise resolver.NoSystemAccount(
            f"operator {operator!r} names no system account: set one with 'nscpy edit operator "
            "--system-account NAME' or pass --system-account"
        )
    return op.system_account


def _stored_user(ws: Workspace, operator: str, account: str, wanted: str) -> tuple[str, str]:
    """(jwt, seed) of a stored user given by name or public key."""
    from nscpy.actions.users import find_user

    user = find_user(ws, operator, account, wanted)
    token = ws.store.read_user(operator, account, user).strip()
    seed = ws.keystore.get(load_user(ws, operator, account, user).subject)
    if seed is None:
        raise resolver.NoSystemSeed(
            f"the seed of system user {user!r} is not in the keystore; import it with "
            "'nscpy import keys' or 'nscpy import user'"
        )
    return token, seed


def system_credentials(
    ws: Workspace, stored: StoredAccounts, conn: Connection
) -> tuple[str, str, str]:
    """(user JWT, user seed, who) to connect as: --system-user, a minted user, or a SYS user."""
    operator, op = stored.operator, stored.claims
    sys_pub = _system_account(ws, operator, op, conn.system_account)
    sys_name = stored.by_key.get(sys_pub)
    if conn.system_user:
        if sys_name is None:
            raise ActionError(
                f"system account {sys_pub} is not in the store: --system-user needs it"
            )
        token, seed = _stored_user(ws, operator, sys_name, conn.system_user)
        return token, seed, f"system user {conn.system_user!r}"
    candidates = [sys_pub]
    if sys_name is not None:
        acct = stored.verified[sys_name]
        # a temporary user needs an unscoped key (a scope would limit it)
        candidates = unscoped_signer_keys(op, acct)
    for key in candidates:
        signing_seed = ws.keystore.get(key)
        if signing_seed is not None:
            signer = keys.KeyPair.from_seed(signing_seed)
            user = resolver.temporary_system_user(signer, sys_pub, ws.now())
            return user.jwt, user.seed, "a temporary system user"
    if sys_name is not None:
        now = ws.now()
        for entry in verified_users(ws.store, operator, sys_name):
            claims = entry.claims
            user_seed = ws.keystore.get(claims.subject)
            if user_seed is not None and (claims.expires == 0 or claims.expires > now):
                return entry.token, user_seed, f"system user {entry.name!r}"
    label = f"{sys_name!r} ({sys_pub})" if sys_name else sys_pub
    raise resolver.NoSystemSeed(
        f"no seed for system account {label} or an unscoped signing key of it, and no system "
        "user with a stored seed: import one with 'nscpy import keys' or pass --system-user"
    )


def connect_options(
    ws: Workspace, conn: Connection, name: str, stored: StoredAccounts | None = None
) -> tuple[resolver.ConnectOptions, str]:
    """ConnectOptions for the operator's resolver, and who we connect as (for the report).

    `stored`: the operator's accounts as the caller already read them (else read here)."""
    if stored is None:
        stored = StoredAccounts.read(ws, ws.operator_name(conn.operator))
    urls = target_urls(stored.claims, conn.url)
    token, seed, who = system_credentials(ws, stored, conn)
    opts = resolver.options_from_env(
        urls,
        token,
        seed,
        ca_file=conn.ca_file,
        cert_file=conn.cert_file,
        key_file=conn.key_file,
        tls_first=conn.tls_first,
        name=name,
        env=ws.env,
    )
    return opts, who
