"""Permission flags as data: what --allow-pub, --deny-sub, --allow-pub-response... ask for."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from nscpy.actions.errors import UsageProblem
from nscpy.jwt import Permission, Permissions, ResponsePermission, ValidationResults
from nscpy.jwt.subject import subject_problem, validate_subject
from nscpy.spec.permissions import Perms

DEFAULT_RESPONSE_TTL_NS = 0


@dataclass
class PermissionSpec(Perms):
    """Subjects to add to (or remove from) a Permissions block: the spec's permission fields
    (nscpy.spec.permissions.Perms, declared there once) plus the removals an edit may ask for."""

    remove: list[str] = field(default_factory=list)
    remove_response: bool = False

    @classmethod
    def of(cls, perms: Perms) -> PermissionSpec:
        """The flags that ask for what a spec's permissions say (lists copied)."""
        copied: dict[str, Any] = {f.name: _copied(getattr(perms, f.name)) for f in fields(Perms)}
        return cls(**copied)

    def is_empty(self) -> bool:
        """True when no flag asks for anything."""
        return super().is_empty() and not (self.remove or self.remove_response)

    def check(self) -> None:
        """Every subject is valid; publish subjects have no queue part."""
        for label, subjects, queue_ok in (
            ("--allow-pub", self.allow_pub, False),
            ("--deny-pub", self.deny_pub, False),
            ("--allow-pubsub", self.allow_pubsub, False),
            ("--deny-pubsub", self.deny_pubsub, False),
            ("--allow-sub", self.allow_sub, True),
            ("--deny-sub", self.deny_sub, True),
        ):
            for entry in subjects:
                _check_entry(label, entry, queue_ok)
        if self.response_max is not None and self.response_max < 1:
            raise UsageProblem("--allow-pub-response must be at least 1")
        if self.response_ttl_ns is not None and self.response_ttl_ns < 0:
            raise UsageProblem("--response-ttl must not be negative")

    def apply(self, perms: Permissions) -> None:
        """Add the requested subjects (deduplicated, order kept) and response permission."""
        self.check()
        for subject in self.remove:
            for perm in (perms.pub, perms.sub):
                perm.allow = [s for s in perm.allow if s != subject]
                perm.deny = [s for s in perm.deny if s != subject]
        _extend(perms.pub, allow=self.allow_pub + self.allow_pubsub)
        _extend(perms.pub, deny=self.deny_pub + self.deny_pubsub)
        _extend(perms.sub, allow=self.allow_sub + self.allow_pubsub)
        _extend(perms.sub, deny=self.deny_sub + self.deny_pubsub)
        if self.remove_response:
            perms.resp = None
        if self.response_max is not None or self.response_ttl_ns is not None:
            resp = perms.resp or ResponsePermission(max=1, ttl=DEFAULT_RESPONSE_TTL_NS)
            if self.response_max is not None:
                resp.max = self.response_max
            if self.response_ttl_ns is not None:
                resp.ttl = self.response_ttl_ns
            perms.resp = resp


def _extend(
    perm: Permission, *, allow: list[str] | None = None, deny: list[str] | None = None
) -> None:
    for target, extra in ((perm.allow, allow or []), (perm.deny, deny or [])):
        for subject in extra:
            if subject not in target:
                target.append(subject)


def _copied(value: object) -> object:
    return list(value) if isinstance(value, list) else value


def _check_entry(label: str, entry: str, queue_ok: bool) -> None:
    parts = entry.split(" ")
    if len(parts) > 2 or (len(parts) == 2 and not queue_ok):
        hint = "a subject and at most one queue name" if queue_ok else "a subject without spaces"
        raise UsageProblem(f"{label} {entry!r}: expected {hint}")
    results = ValidationResults()
    validate_subject(parts[0], results)
    if not results.is_empty() or not parts[0]:
        reason = results.issues[0].description if results.issues else "empty subject"
        raise UsageProblem(f"{label} {entry!r}: {reason}")
    problem = subject_problem(parts[0])
    if problem is not None:
        raise UsageProblem(f"{label} {entry!r}: nats-server would never match it: {problem}")
