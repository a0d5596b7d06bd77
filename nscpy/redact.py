"""Keeping seeds out of messages: what "looks like a seed" means, and scrubbing it from text.

A seed is 58 characters of upper-case base32. A typo'd one (a character too many or too few,
lower-cased, quoted, or without its leading S) is still almost all of a secret, so every error
line and traceback the CLI prints goes through redact_seeds(), and messages about a value that
was meant to be a seed use shown() instead of quoting it.

The rule: a maximal run of base32 letters and digits ([A-Za-z2-7]) at least SEED_LIKE_MIN
characters long, in one case but for at most two letters (a typo) or holding a one-case stretch
of that length (a seed with letters glued to it), is seed-like -- unless it is a valid public
key, which is public by definition and what a message most often needs to name.
Mixed-case runs (JWT segments, CamelCase names) are left alone: seeds are written in one case.
Pure: no I/O.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "SEED_LIKE_MIN", "looks_like_seed", "redact_seeds", "shown"]

# 16 characters of a 58-character seed leave ~176 of its 256 bits unknown; below that the
# rule would start hiding ordinary words in messages for no protection worth having.
SEED_LIKE_MIN = 16
REDACTED = "<redacted: looks like a seed>"
_RUN = re.compile(f"[A-Za-z2-7]{{{SEED_LIKE_MIN},}}")
_PUBLIC_KEY_LENGTH = 56


def _is_public_key(run: str) -> bool:
    if len(run) != _PUBLIC_KEY_LENGTH or not run.isupper():
        return False
    from nscpy.keys.codec import is_valid_public_key  # only when a candidate turns up

    return is_valid_public_key(run)


# Letters of the minority case a seed-like run may hold: a lower-cased seed with a typo'd
# capital is still a seed; base64 (JWT segments) and CamelCase words mix far more.
_MAX_OTHER_CASE = 2


_ONE_CASE = re.compile(f"[A-Z2-7]{{{SEED_LIKE_MIN},}}|[a-z2-7]{{{SEED_LIKE_MIN},}}")


def _seed_like(run: str) -> bool:
    upper = sum(c.isupper() for c in run)
    lower = sum(c.islower() for c in run)
    nearly_one_case = min(upper, lower) <= _MAX_OTHER_CASE
    # letters glued on either side of a seed still leave a long one-case stretch inside
    return (nearly_one_case or _ONE_CASE.search(run) is not None) and not _is_public_key(run)


def looks_like_seed(text: str) -> bool:
    """True when text holds a run that redact_seeds() would hide."""
    return any(_seed_like(m.group()) for m in _RUN.finditer(text))


def redact_seeds(text: str) -> str:
    """text with every seed-like run replaced by REDACTED (public keys are kept)."""
    return _RUN.sub(lambda m: REDACTED if _seed_like(m.group()) else m.group(), text)


def shown(value: str) -> str:
    """repr(value) for a message, or a placeholder when the value may be a (damaged) seed."""
    return "<a value not shown: it may be a seed>" if looks_like_seed(value) else repr(value)
