"""Keeping seeds out of messages: what "looks like a seed" means, and scrubbing it from text.

A seed is 58 characters of upper-case base32. A typo'd one (a character too many or too few,
lower-cased, quoted, or without its leading S) is still almost all of a secret, so every error
line and traceback the CLI prints goes through redact_seeds(), and messages about a value that
was meant to be a seed use shown() instead of quoting it.

The rule, for each maximal run of base32 letters and digits ([A-Za-z2-7]):

- it is at least SEED_LIKE_MIN characters long, and if shorter than 28 it holds a digit 2-7
  (shorter letters-only runs are words and names);
- it is in one case but for at most two letters (a typo'd capital), or holds a one-case
  stretch of SEED_LIKE_MIN characters (a seed with letters glued to it) -- so mixed-case runs
  (JWT segments, CamelCase names) are left alone;
- it is not a valid public key, which is public by definition and what messages need to name.

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


# Base32 has the digits 2-7, so 16 random characters hold none only 3.6% of the time, and 28
# only 0.3%; letters-only runs shorter than that are words and names, shown as they are.
_DIGITS = frozenset("234567")
_WORD_LIKE_MAX = 28
# Letters of the minority case a seed-like run may hold: a lower-cased seed with a typo'd
# capital is still a seed; base64 (JWT segments) and CamelCase words mix far more.
_MAX_OTHER_CASE = 2


_ONE_CASE = re.compile(f"[A-Z2-7]{{{SEED_LIKE_MIN},}}|[a-z2-7]{{{SEED_LIKE_MIN},}}")


def _seed_like(run: str) -> bool:
    if len(run) < _WORD_LIKE_MAX and not any(c in _DIGITS for c in run):
        return False  # a long word or name; a seed fragment this short nearly always has a digit
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
