"""add / delete mapping: weighted subject mappings in the account JWT."""

from __future__ import annotations

from nscpy.actions.edit_common import account_saved, resolve_account, update_account
from nscpy.actions.entities import Saved
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.exports import check_subject
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, WeightedMapping


def add_mapping(
    ws: Workspace,
    account: str | None,
    source: str,
    destination: str,
    *,
    weight: int = 100,
    cluster: str = "",
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Add (or re-weight) the mapping source -> destination, optionally for one cluster."""
    ref = resolve_account(ws, account, operator)
    check_subject("--from", source)
    check_subject("--to", destination)
    if not 1 <= weight <= 100:
        raise UsageProblem(f"--weight must be 1..100, got {weight}")

    def apply(claims: AccountClaims) -> None:
        entries = claims.mappings.setdefault(source, [])
        for entry in entries:
            if entry.subject == destination and entry.cluster == cluster:
                entry.weight = weight
                break
        else:
            entries.append(WeightedMapping(destination, weight, cluster))
        total = sum(e.get_weight() for e in entries if e.cluster == cluster)
        if total > 100:
            where = f" in cluster {cluster!r}" if cluster else ""
            raise UsageProblem(
                f"the weights of mapping {source!r}{where} would total {total}%: at most 100"
            )

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)


def delete_mapping(
    ws: Workspace,
    account: str | None,
    source: str,
    destination: str | None = None,
    *,
    cluster: str | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Remove one destination of a mapping, or (no destination) the whole mapping."""
    ref = resolve_account(ws, account, operator)

    def apply(claims: AccountClaims) -> None:
        entries = claims.mappings.get(source)
        if entries is None:
            raise ActionError(f"account {ref.account!r} has no mapping from {source!r}")
        if destination is None and cluster is None:
            del claims.mappings[source]
            return
        kept = [
            e
            for e in entries
            if not (
                (destination is None or e.subject == destination)
                and (cluster is None or e.cluster == cluster)
            )
        ]
        if len(kept) == len(entries):
            raise ActionError(f"mapping {source!r} has no such destination")
        if kept:
            claims.mappings[source] = kept
        else:
            del claims.mappings[source]

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)
