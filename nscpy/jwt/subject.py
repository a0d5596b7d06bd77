"""NATS subjects: the jwt library's checks (Validate, HasWildCards, IsContainedIn) and the server's.

Two rule sets exist on purpose. The jwt library is lenient (it never checks where wildcards
sit), and a decoder must accept whatever it accepts. nats-server is stricter when it actually uses
a subject; encoders and the server stub should hold subjects to those rules (`is_valid_subject`).
"""

from __future__ import annotations

from nscpy.jwt.validation import ValidationResults, go_quote

__all__ = [
    "validate_subject",
    "validate_renaming_subject",
    "renaming_to_subject",
    "has_wildcards",
    "count_token_wildcards",
    "is_contained_in",
    "is_valid_subject",
    "subject_problem",
    "is_valid_publish_subject",
    "is_valid_literal_subject",
    "is_literal",
    "subject_matches",
    "subject_subset",
]

_SEP = "."
_PWC = "*"
_FWC = ">"
# nats-server's whitespace set; note it is not str.isspace (no \v, no Unicode spaces)
_SERVER_WHITESPACE = frozenset(" \t\n\f\r")


def validate_subject(subject: str, results: ValidationResults) -> None:
    """Add the jwt library's subject errors: empty, spaces, leading/trailing '.', empty tokens."""
    if subject == "":
        results.add_error("subject cannot be empty")
        return
    quoted = go_quote(subject)
    if " " in subject:
        results.add_error(f"subject {quoted} cannot have spaces")
    if subject[0] == _SEP or subject[-1] == _SEP:
        results.add_error(f"subject {quoted} cannot start or end with a `.`")
    if ".." in subject:
        results.add_error(f"subject {quoted} cannot contain consecutive `.`")


def count_token_wildcards(subject: str) -> int:
    """The number of whole '*' tokens in subject."""
    return subject.split(_SEP).count(_PWC)


def _ends_in_fwc(subject: str) -> bool:
    return subject == _FWC or subject.endswith(".>")


def _reference_index(token: str) -> int | None:
    """N for a '$N' token (N decimal, optionally signed as Go's Atoi allows), else None."""
    if len(token) < 2 or token[0] != "$":
        return None
    digits = token[1:]
    body = digits[1:] if digits[0] in "+-" else digits
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(digits)


def validate_renaming_subject(local: str, subject: str, results: ValidationResults) -> None:
    """Check an import's local_subject against its subject: '$N' references and '>' endings."""
    validate_subject(local, results)
    if subject == "":
        results.add_error("subject cannot be empty")
    if " " in local:
        results.add_error(f"subject {go_quote(local)} cannot have spaces")
    if _ends_in_fwc(local) != _ends_in_fwc(subject):
        results.add_error("both, renaming subject and subject, need to end or not end in >")
    wanted = count_token_wildcards(subject)
    seen = 0
    for token in local.split(_SEP):
        if token == _PWC:
            seen += 1
            continue
        index = _reference_index(token)
        if index is None:
            continue
        if index > wanted:
            results.add_error(
                f"Reference ${index} in {go_quote(local)} reference * in {go_quote(subject)}"
                " that do not exist"
            )
        else:
            seen += 1
    if seen != wanted:
        results.add_error("subject does not contain enough * or reference wildcards $[0-9]")


def renaming_to_subject(local: str) -> str:
    """The local_subject with each '$N' reference turned back into '*'."""
    if "$" not in local:
        return local
    tokens = local.split(_SEP)
    return _SEP.join(_PWC if _reference_index(t) is not None else t for t in tokens)


def has_wildcards(subject: str) -> bool:
    """The jwt library's HasWildCards: a whole '*' token anywhere, or a final '>' token."""
    return (
        subject.endswith(".>")
        or ".*." in subject
        or subject.endswith(".*")
        or subject.startswith("*.")
        or subject == _PWC
        or subject == _FWC
    )


def is_contained_in(subject: str, other: str) -> bool:
    """Go's Subject.IsContainedIn: token-wise, '*' in other matches one token, a final '>' the rest.

    Kept quirk-for-quirk: 'foo' is not in 'foo.>', and 'foo.>' is in 'foo.*' ('*' matches '>').
    """
    mine = subject.split(_SEP)
    theirs = other.split(_SEP)
    if len(mine) < len(theirs):
        return False
    last = len(theirs) - 1
    if len(mine) > len(theirs) and theirs[last] != _FWC:
        return False
    for index, token in enumerate(theirs):
        if index == last and token == _FWC:
            return True
        if token != mine[index] and token != _PWC:
            return False
    return True


def is_valid_subject(subject: str) -> bool:
    """nats-server's IsValidSubject: non-empty tokens, no whitespace, '>' only as the last token."""
    if subject == "":
        return False
    after_fwc = False
    for token in subject.split(_SEP):
        if token == "" or after_fwc:
            return False
        if len(token) > 1:
            if not _SERVER_WHITESPACE.isdisjoint(token):
                return False
            continue
        if token == _FWC:
            after_fwc = True
        elif token in _SERVER_WHITESPACE:
            return False
    return True


def subject_problem(subject: str) -> str | None:
    """Why nats-server could never match subject (for a flag's error), or None if it can.

    Stricter than validate_subject on purpose: the jwt library would store 'orders.>.x', but
    the server treats a permission with it as one that matches nothing, silently."""
    if subject == "":
        return "it is empty"
    tokens = subject.split(_SEP)
    for index, token in enumerate(tokens):
        if token == "":
            return "it has an empty token (a leading, trailing or doubled '.')"
        if not _SERVER_WHITESPACE.isdisjoint(token):
            return "it contains whitespace"
        if token == _FWC and index != len(tokens) - 1:
            return "'>' matches the rest of a subject, so it must be the last token"
    return None


def is_literal(subject: str) -> bool:
    """True when no token is a wildcard ('*' or '>' as a whole token)."""
    for token in subject.split(_SEP):
        if token == _PWC or token == _FWC:
            return False
    return True


def is_valid_literal_subject(subject: str) -> bool:
    """nats-server's IsValidLiteralSubject: non-empty tokens, none of them a wildcard."""
    for token in subject.split(_SEP):
        if token == "" or token == _PWC or token == _FWC:
            return False
    return True


def is_valid_publish_subject(subject: str) -> bool:
    """nats-server's IsValidPublishSubject: a valid subject without wildcard tokens."""
    return is_valid_subject(subject) and is_literal(subject)


def subject_matches(pattern: str, literal: str) -> bool:
    """True when the literal subject is matched by pattern ('*' one token, final '>' one or more).

    Tokens of literal are compared as text, so a '*' in literal only matches '*' or a wildcard.
    """
    tokens = literal.split(_SEP)
    count = len(tokens)
    for index, token in enumerate(pattern.split(_SEP)):
        if token == _FWC:
            return index < count
        if index >= count:
            return False
        if token != _PWC and token != tokens[index]:
            return False
    return count == len(pattern.split(_SEP))


def subject_subset(subject: str, test: str) -> bool:
    """True when every literal subject matched by subject is also matched by test."""
    mine = subject.split(_SEP)
    for index, token in enumerate(test.split(_SEP)):
        if token == _FWC:
            return index < len(mine)
        if index >= len(mine):
            return False
        own = mine[index]
        if own == _FWC:
            # subject spans any number of tokens here; test has fixed tokens left
            return False
        if token == _PWC:
            continue
        if own == _PWC or own != token:
            return False
    return len(mine) == len(test.split(_SEP))


def subjects_collide(a: str, b: str) -> bool:
    """True when some literal subject is matched by both patterns (nats-server's overlap)."""
    left, right = a.split(_SEP), b.split(_SEP)
    for index, token in enumerate(left):
        if index >= len(right):
            return False
        other = right[index]
        if token == _FWC or other == _FWC:
            return True
        if token != other and token != _PWC and other != _PWC:
            return False
    return len(left) == len(right)
