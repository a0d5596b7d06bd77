"""plan: what `apply` would change to make a store match a spec (pure reads, no writes).

Theory of operation. Every entity of the spec is matched by name to the store. Existing
identity keys and signing keys are kept (a "generate" entry is satisfied by a key the store
already has before a new one is made); new keys are generated in memory and only stored by
apply. For each entity the planner builds the claims the spec asks for, issued by the key that
would sign them (the previous issuer when it still may, else the signer rule's choice), and
compares them with the stored JWT's claims, leaving out what signing sets (iat, jti, version).
Equal claims mean no change: nothing is re-signed and no file is written. Relative times
("90d") count from the stored JWT's issue time while the entity is unchanged, and from now when
it is re-signed, so a second apply changes nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from nscpy import keys
from nscpy.actions.changes import Change, EntityPlan, Plan, claim_diff
from nscpy.actions.edit_common import normalise_tags
from nscpy.actions.errors import ActionError
from nscpy.actions.signers import account_signer_keys, load_key_value, unscoped_signer_keys
from nscpy.actions.spec_claims import (
    account_limits,
    apply_perms,
    apply_user_limits,
    export_claim,
    import_claim,
    mappings_claim,
    resolve_when,
    sort_for_encode,
    trace_claim,
    user_claims,
)
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    ActivationClaims,
    Claims,
    ExternalAuthorization,
    JWTError,
    OperatorClaims,
    UserClaims,
    UserScope,
    ValidationResults,
    decode_activation,
    decode_kind,
    encode,
    is_contained_in,
)
from nscpy.jwt.signing_keys import SigningKeys
from nscpy.spec.errors import SpecError, SpecIssue
from nscpy.spec.model import GENERATE, AccountSpec, Spec, UserSpec

__all__ = ["Change", "EntityPlan", "Plan", "claim_diff", "make_plan"]

C = TypeVar("C", bound=Claims)


def _decode_stored(token: str, kind: type[C], what: str) -> C:
    try:
        return decode_kind(token, kind)
    except JWTError as exc:
        raise ActionError(f"the stored JWT of {what} is not valid: {exc}") from None


class _Keys:
    """Seeds this run can sign with: new (in memory) keys first, then the keystore."""

    def __init__(self, ws: Workspace, new: dict[str, keys.KeyPair]) -> None:
        self.ws = ws
        self.new = new
        self._has: dict[str, bool] = {}

    def has(self, public_key: str) -> bool:
        if public_key in self.new:
            return True
        if public_key not in self._has:
            self._has[public_key] = self.ws.keystore.get(public_key) is not None
        return self._has[public_key]

    def pair(self, public_key: str) -> keys.KeyPair:
        if public_key in self.new:
            return self.new[public_key]
        seed = self.ws.keystore.get(public_key)
        if seed is None:
            raise ActionError(f"the seed of {public_key} is not in the keystore")
        return load_key_value(seed, self.ws.keystore)

    def generate(self, prefix: keys.Prefix) -> keys.KeyPair:
        pair = keys.create_pair(prefix)
        self.new[pair.public_key] = pair
        return pair


def _pick_signer(candidates: list[str], stored_issuer: str, ks: _Keys, what: str) -> str:
    """The previous issuer while it may still sign, else the first candidate we hold a seed of."""
    if stored_issuer in candidates:
        return stored_issuer
    for key in candidates:
        if ks.has(key):
            return key
    raise ActionError(
        f"no key that may sign {what} is in the keystore (tried {', '.join(candidates)}); "
        "import it with 'nscpy import keys'"
    )


def _reuse(wanted: list[str], existing: list[str], ks: _Keys, prefix: keys.Prefix) -> list[str]:
    """Explicit keys as given; each "generate" takes an unnamed existing key, else a new one."""
    explicit = [k for k in wanted if k != GENERATE]
    spare = [k for k in existing if k not in explicit]
    out = list(explicit)
    for _ in range(wanted.count(GENERATE)):
        out.append(spare.pop(0) if spare else ks.generate(prefix).public_key)
    return out


# -- the planner ---------------------------------------------------------------------------------
class _Planner:
    def __init__(self, ws: Workspace, spec: Spec, prune: bool) -> None:
        self.ws = ws
        self.spec = spec
        self.prune = prune
        self.now = ws.now()
        self.new: dict[str, keys.KeyPair] = {}
        self.ks = _Keys(ws, self.new)
        self.issues: list[SpecIssue] = []
        self.op_name = spec.operator.name
        self.exists = ws.store.has_operator(self.op_name)
        self.stored_accounts = ws.store.list_accounts(self.op_name) if self.exists else []
        self.account_keys: dict[str, str] = {}
        self.account_claims: dict[str, AccountClaims] = {}
        self.stored_account_claims: dict[str, AccountClaims] = {}
        self.stored_tokens: dict[str, str] = {}
        self.delete_users: dict[str, list[str]] = {}
        # the operator as planned (set by run() before accounts and users are planned)
        self.op_claims: OperatorClaims | None = None
        self.operator_only = False

    def bad(self, path: tuple[str | int, ...], message: str) -> None:
        self.issues.append(SpecIssue(self.spec.locate(path), message))

    def check(self, claims: Any, path: tuple[str | int, ...], what: str) -> None:
        results = ValidationResults()
        claims.validate(results, now=self.now)
        for error in results.errors():
            self.bad(path, f"{what} would not be valid: {error}")

    # operator ------------------------------------------------------------------------------
    def operator(self) -> tuple[EntityPlan, OperatorClaims | None]:
        o = self.spec.operator
        stored_token: str | None = None
        stored: OperatorClaims | None = None
        new_pair: keys.KeyPair | None = None
        if self.exists:
            stored_token = self.ws.store.read_operator(self.op_name)
            stored = _decode_stored(stored_token, OperatorClaims, f"operator {self.op_name!r}")
            subject = stored.subject
        else:
            new_pair = self.ks.generate(keys.Prefix.OPERATOR)
            subject = new_pair.public_key
        claims = OperatorClaims.new(subject)
        claims.name = o.name
        claims.signing_keys = _reuse(
            o.signing_keys,
            list(stored.signing_keys) if stored else [],
            self.ks,
            keys.Prefix.OPERATOR,
        )
        claims.strict_signing_key_usage = o.strict
        claims.operator_service_urls = [u.lower() for u in o.service_urls]
        claims.account_server_url = o.account_server_url
        claims.tags = normalise_tags(o.tags)
        if stored is not None:
            # fields the spec cannot set are kept
            claims.assert_server_version = stored.assert_server_version
        plan = EntityPlan("operator", o.name, claims, subject, new_pair, stored_token)
        self._times(plan, stored, o.start, o.expiry)
        return plan, stored

    def _times(self, plan: EntityPlan, stored: Any, start: Any, expiry: Any) -> None:
        base = stored.issued_at if stored is not None else self.now
        plan.claims.not_before = resolve_when(start, base)
        plan.claims.expires = resolve_when(expiry, base)
        plan.relative_times = start.is_relative or expiry.is_relative

    def finish(self, plan: EntityPlan, stored: Any, start: Any, expiry: Any) -> None:
        """Set the issuer, compare with the stored claims, and re-time a changed entity."""
        plan.claims.issuer = plan.signer
        if stored is None:
            plan.changed = True
            if plan.relative_times:
                self._times(plan, None, start, expiry)
            return
        diff = claim_diff(stored, plan.claims)
        if diff and plan.relative_times:
            self._times(plan, None, start, expiry)
            diff = claim_diff(stored, plan.claims)
        plan.diff = diff
        plan.changed = bool(diff)

    # accounts ------------------------------------------------------------------------------
    def account_identity(self, a: AccountSpec) -> tuple[str, AccountClaims | None, str | None]:
        if a.name in self.stored_accounts:
            token = self.ws.store.read_account(self.op_name, a.name)
            stored = _decode_stored(token, AccountClaims, f"account {a.name!r}")
            return stored.subject, stored, token
        other = next((s for s in self.stored_accounts if s.casefold() == a.name.casefold()), None)
        if other is not None:
            self.bad(a.path, f"the store has account {other!r}; names differ only in case")
        pair = self.ks.generate(keys.Prefix.ACCOUNT)
        return pair.public_key, None, None

    def account(self, a: AccountSpec, op: OperatorClaims) -> EntityPlan:
        subject = self.account_keys[a.name]
        stored = self.stored_account_claims.get(a.name)
        claims = AccountClaims.new(subject)
        claims.name = a.name
        claims.description = a.description
        claims.info_url = a.info_url
        claims.tags = normalise_tags(a.tags)
        claims.limits = account_limits(a)
        apply_perms(claims.default_permissions, a.default_permissions)
        claims.signing_keys = self.account_signing_keys(a, stored)
        stored_exports = stored.exports if stored else []
        claims.exports = [export_claim(e, stored_exports) for e in a.exports]
        claims.mappings = mappings_claim(a)
        claims.trace = trace_claim(a)
        if stored is not None:
            for key, at in stored.revocations.items():
                claims.revocations[key] = at
            claims.cluster_traffic = stored.cluster_traffic
        for key, at in a.revocations.items():
            claims.revocations[key] = max(at, claims.revocations.get(key, 0))
        signer = _pick_signer(
            account_signer_keys(op),
            stored.issuer if stored else "",
            self.ks,
            f"accounts of operator {self.op_name!r}",
        )
        plan = EntityPlan("account", a.name, claims, signer, self.new.get(subject), None)
        plan.stored = self.stored_tokens.get(a.name)
        self._times(plan, stored, a.start, a.expiry)
        return plan

    def account_signing_keys(self, a: AccountSpec, stored: AccountClaims | None) -> SigningKeys:
        old = stored.signing_keys if stored else SigningKeys()
        out = SigningKeys()
        plain_wanted = [k.key for k in a.signing_keys if not k.scoped]
        scoped_explicit = {k.key for k in a.signing_keys if k.scoped and k.key != GENERATE}
        existing_plain = sorted(k for k, s in old.items() if s is None and k not in scoped_explicit)
        out.add(*_reuse(plain_wanted, existing_plain, self.ks, keys.Prefix.ACCOUNT))
        for k in a.signing_keys:
            if not k.scoped:
                continue
            key = k.key
            if key == GENERATE:
                same_role = [
                    pk for pk, s in sorted(old.items()) if s is not None and s.role == k.role
                ]
                key = (
                    same_role[0] if same_role else self.ks.generate(keys.Prefix.ACCOUNT).public_key
                )
            scope = UserScope(key=key, role=k.role, description=k.description)
            if k.template is not None:
                apply_user_limits(scope.template, k.template)
            out.add_scoped(scope)
        return out

    def imports(self, a: AccountSpec, claims: AccountClaims, stored: AccountClaims | None) -> None:
        for i in a.imports:
            src = self.spec.accounts.get(i.src_account)
            exporter = self.account_keys[i.src_account] if src else i.src_account
            token = i.token
            if src is not None and not token:
                export = next(
                    (
                        e
                        for e in src.exports
                        if e.type == i.type and is_contained_in(i.remote_subject, e.subject)
                    ),
                    None,
                )
                if export is not None and export.private:
                    token = self.activation(i, exporter, claims.subject, stored)
            claims.imports.append(import_claim(i, exporter, token))

    def activation(self, i: Any, exporter: str, importer: str, stored: AccountClaims | None) -> str:
        """The stored activation while it still grants this import, else a new one."""
        for old in stored.imports if stored else []:
            if old.account == exporter and old.subject == i.remote_subject and old.token:
                try:
                    act = decode_activation(old.token)
                except JWTError:
                    continue
                if (
                    act.subject == importer
                    and exporter in (act.issuer, act.issuer_account)
                    and act.import_type == i.type
                    and is_contained_in(i.remote_subject, act.import_subject)
                    and not (act.expires and act.expires <= self.now)
                ):
                    return old.token
        exp_claims = self.account_claims[i.src_account]
        candidates = unscoped_signer_keys(self.op_claims, exp_claims)
        signer = self.ks.pair(
            _pick_signer(candidates, "", self.ks, f"activations of {i.src_account!r}")
        )
        act = ActivationClaims.new(importer)
        act.name = i.remote_subject
        act.import_subject = i.remote_subject
        act.import_type = i.type
        if signer.public_key != exporter:
            act.issuer_account = exporter
        return encode(act, signer, iat=self.now)

    def auth_callout(self, a: AccountSpec, claims: AccountClaims, users: dict[str, str]) -> None:
        ac = a.auth_callout
        if ac is None:
            return
        claims.authorization = ExternalAuthorization(
            auth_users=[users.get(u, u) for u in ac.auth_users],
            allowed_accounts=[self.account_keys.get(x, x) for x in ac.allowed_accounts],
            xkey=ac.curve,
        )

    # users ---------------------------------------------------------------------------------
    def users(self, a: AccountSpec, acct: AccountClaims) -> tuple[list[EntityPlan], dict[str, str]]:
        stored_names = (
            set(self.ws.store.list_users(self.op_name, a.name))
            if a.name in self.stored_accounts
            else set()
        )
        plain = unscoped_signer_keys(self.op_claims, acct)
        plans: list[EntityPlan] = []
        keys_by_name: dict[str, str] = {}
        for u in a.all_users():
            plans.append(self.user(a, acct, u, u.name in stored_names, plain))
            keys_by_name[u.name] = plans[-1].claims.subject
        if self.prune:
            wanted = {u for u in keys_by_name}
            gone = sorted(stored_names - wanted)
            if gone:
                self.delete_users[a.name] = gone
                for name in gone:
                    try:
                        old = _decode_stored(
                            self.ws.store.read_user(self.op_name, a.name, name),
                            UserClaims,
                            f"user {name!r}",
                        )
                        acct.revocations.revoke(old.subject, self.now)
                    except ActionError:
                        pass
        return plans, keys_by_name

    def user(
        self, a: AccountSpec, acct: AccountClaims, u: UserSpec, exists: bool, plain: list[str]
    ) -> EntityPlan:
        stored: UserClaims | None = None
        token: str | None = None
        if exists:
            token = self.ws.store.read_user(self.op_name, a.name, u.name)
            stored = _decode_stored(token, UserClaims, f"user {u.name!r}")
            subject = stored.subject
            new_pair = None
        else:
            new_pair = self.ks.generate(keys.Prefix.USER)
            subject = new_pair.public_key
        if u.role:
            signer = next(
                k for k, s in acct.signing_keys.items() if s is not None and s.role == u.role
            )
        else:
            signer = _pick_signer(
                plain, stored.issuer if stored else "", self.ks, f"users of account {a.name!r}"
            )
        claims = user_claims(subject, u.name, u.limits, u.tags, bool(u.role))
        if signer != acct.subject:
            claims.issuer_account = acct.subject
        plan = EntityPlan("user", u.name, claims, signer, new_pair, token, account=a.name)
        self._times(plan, stored, u.start, u.expiry)
        self.finish(plan, stored, u.start, u.expiry)
        return plan

    # all -----------------------------------------------------------------------------------
    def run(self) -> Plan:
        op_plan, op_stored = self.operator()
        accounts = {} if self.operator_only else self.spec.accounts
        for name, a in accounts.items():
            subject, stored, token = self.account_identity(a)
            self.account_keys[name] = subject
            if stored is not None and token is not None:
                self.stored_account_claims[name] = stored
                self.stored_tokens[name] = token
        sys_name = self.spec.operator.system_account
        op_plan.claims.system_account = self.account_keys.get(
            sys_name, "" if sys_name in self.spec.accounts else sys_name
        )
        self.finish(op_plan, op_stored, self.spec.operator.start, self.spec.operator.expiry)
        self.check(op_plan.claims, self.spec.operator.path, f"operator {self.op_name!r}")
        op: OperatorClaims = op_plan.claims
        self.op_claims = op
        plan = Plan(
            self.op_name,
            self.now,
            op_plan,
            new_keys=self.new,
            operator_exists=self.exists,
            keyring=self.ks,
        )
        for name, a in accounts.items():
            ap = self.account(a, op)
            self.account_claims[name] = ap.claims
            plan.accounts[name] = ap
        for name, a in accounts.items():
            ap = plan.accounts[name]
            stored = self.stored_account_claims.get(name)
            self.imports(a, ap.claims, stored)
            user_plans, user_keys = self.users(a, ap.claims)
            self.auth_callout(a, ap.claims, user_keys)
            sort_for_encode(ap.claims)
            self.finish(ap, stored, a.start, a.expiry)
            self.check(ap.claims, a.path, f"account {name!r}")
            plan.users[name] = user_plans
            plan.unchanged += sum(1 for p in user_plans if not p.changed)
        plan.delete_users = self.delete_users
        if self.prune:
            plan.delete_accounts = [s for s in self.stored_accounts if s not in self.spec.accounts]
        if self.issues:
            raise SpecError(self.issues)
        return plan


def make_plan(
    ws: Workspace,
    spec: Spec,
    *,
    prune: bool = False,
    operator_only: bool = False,
) -> Plan:
    """The plan for spec against ws's store (reads only; new keys exist only in memory).

    operator_only: plan the operator alone (its system account is left unset).
    """
    planner = _Planner(ws, spec, prune)
    planner.operator_only = operator_only
    return planner.run()
