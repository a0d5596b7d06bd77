"""Rules for names: which new names are refused, and how a given name finds a stored one.

Pure (no file system calls). Two halves:

- ``check_new_name`` is applied before anything is written for a new operator, account or user.
  On top of layout.validate_name (no '/', no control characters, ...) it refuses names that read
  as something they are not (invisible and format characters, non-ASCII spaces), names that
  collide with a stored name once Unicode-normalised (NFKC, so NFD "café", full-width letters
  and ligatures count), names that collide with the store's own files (nsc.json, keys/, creds/,
  dot-names that listings skip), and names too long for the longest file name made from them.
  It returns the NFC form, which is what gets stored.
- ``match_name`` resolves a name given on the command line against the stored names: exactly,
  or by NFC form when exactly one stored name has it; never by case. Several candidates are an
  AmbiguousName error, never a pick.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from nscpy.store.errors import AmbiguousName, InvalidName
from nscpy.store.layout import MAX_NEW_NAME_BYTES, validate_name

__all__ = ["check_new_name", "match_name", "near_misses", "nfc"]

# Default-ignorable code points that are not category Cf: they render as nothing, so "bob"
# followed by one of them reads as "bob". (Cf -- ZWSP, ZWJ, BOM, word joiner, soft hyphen,
# bidi marks -- is refused by category.)
_INVISIBLE = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b\u180c\u180d\u180f"  # Mongolian free variation selectors
    "\u2800"  # braille blank
) | frozenset(chr(c) for c in range(0xFE00, 0xFE10))  # variation selectors 1-16
_SUPPLEMENTARY_SELECTORS = range(0xE0100, 0xE01F0)


def nfc(name: str) -> str:
    """The NFC form of name (what the store keeps, and what lookups compare)."""
    return unicodedata.normalize("NFC", name)


def _skeleton(name: str) -> str:
    # NFKC folds compatibility look-alikes (full-width letters, ligatures) onto one form
    return unicodedata.normalize("NFKC", name)


def _invisible(c: str) -> bool:
    if c in _INVISIBLE or ord(c) in _SUPPLEMENTARY_SELECTORS:
        return True
    category = unicodedata.category(c)
    # Cf: format characters; Co/Cn: private-use and unassigned, which render as anything;
    # Zs other than ' ': spaces that look like ' ' but are another name
    return category in ("Cf", "Co", "Cn") or (category == "Zs" and c != " ")


def check_new_name(
    name: str,
    kind: str,
    existing: Iterable[str] = (),
    reserved: Iterable[str] = (),
) -> str:
    """The NFC form of a name for a new `kind`, or InvalidName saying why it is refused.

    existing: the names already stored beside it; reserved: file names the store itself uses
    in the same directory (compared case-insensitively, for case-insensitive file systems).
    An exact duplicate is not refused here: the caller reports "already exists".
    """
    wanted = nfc(name)
    size = len(wanted.encode("utf-8"))
    if size > MAX_NEW_NAME_BYTES:
        raise InvalidName(
            f"{kind} name is {size} bytes long; the limit is {MAX_NEW_NAME_BYTES} bytes, so that "
            "every file made from it (with its temp-file prefix and suffix) fits in 255 bytes"
        )
    validate_name(name, kind)
    bad = next((c for c in name if _invisible(c)), None)
    if bad is not None:
        raise InvalidName(
            f"{kind} name {name!r} contains the invisible or format character "
            f"U+{ord(bad):04X} ({unicodedata.name(bad, 'unnamed')}); use visible characters"
        )
    if wanted.startswith("."):
        raise InvalidName(
            f"{kind} name {name!r} starts with '.': such names are hidden from listings "
            "and reserved for the store's own files"
        )
    folded = wanted.casefold()
    if any(folded == r.casefold() for r in reserved):
        raise InvalidName(
            f"{kind} name {name!r} is the name of one of the store's own files; choose another"
        )
    skeleton = _skeleton(wanted)
    for other in existing:
        if other != wanted and _skeleton(nfc(other)) == skeleton:
            raise InvalidName(
                f"{kind} name {name!r} is the same as the existing {kind} {other!r} once "
                "Unicode-normalised; choose a name that reads differently"
            )
    return wanted


def match_name(value: str, names: Sequence[str], kind: str) -> str | None:
    """The stored name `value` names: exact, else the one stored name with the same NFC form.

    None when nothing matches; AmbiguousName when several stored names share the NFC form
    (two spellings written by other tools). Case is never folded: 'alice' is not 'ALICE'.
    """
    if value in names:
        return value
    wanted = nfc(value)
    found = [n for n in names if nfc(n) == wanted]
    if len(found) > 1:
        listed = ", ".join(repr(n) for n in found)
        raise AmbiguousName(
            f"{kind} {value!r} could be any of {listed} (the same after Unicode "
            "normalisation); rename all but one, or give the public key"
        )
    return found[0] if found else None


def near_misses(value: str, names: Sequence[str]) -> list[str]:
    """Stored names equal to value except for case or compatibility forms (for a hint only)."""
    folded = _skeleton(value).casefold()
    return [n for n in names if _skeleton(n).casefold() == folded]
