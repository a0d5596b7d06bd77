"""Subject transforms (`subject_transform`, `republish`): a source pattern and a destination.

The destination refers to the source's wildcards by position, as `{{wildcard(1)}}` or the
older `$1`; a `>` in both keeps the tail. nats-server's other mapping functions (partition,
split, slice, ...) are refused with an error rather than copied as literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nscpy.jwt.subject import is_valid_subject, subject_matches

_WILDCARD = re.compile(r"^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$", re.IGNORECASE)
_DOLLAR = re.compile(r"^\$(\d+)$")


class TransformError(ValueError):
    """A transform whose source or destination nats-server would refuse (or the stub lacks)."""


@dataclass(frozen=True, slots=True)
class SubjectTransform:
    """A validated transform; `apply` maps a literal subject matching `source`."""

    source: str
    destination: str

    @classmethod
    def parse(cls, source: str, destination: str) -> SubjectTransform:
        """Check both sides; raises TransformError with a one-line reason."""
        source = source or ">"
        if not is_valid_subject(source):
            raise TransformError(f"invalid transform source {source!r}")
        if not destination or not is_valid_subject(destination.replace(" ", "")):
            raise TransformError(f"invalid transform destination {destination!r}")
        wildcards = source.split(".").count("*")
        for token in destination.split("."):
            if token.startswith("{{") or token.startswith("$"):
                index = _index(token)
                if index is None:
                    raise TransformError(
                        f"server_stub supports only wildcard(N) in transforms, got {token!r}"
                    )
                if not 1 <= index <= wildcards:
                    raise TransformError(f"transform refers to wildcard {index} of {wildcards}")
            elif "{{" in token:
                raise TransformError(f"invalid transform destination token {token!r}")
        if destination.endswith(">") != source.endswith(">"):
            raise TransformError("transform '>' must end both source and destination")
        return cls(source, destination)

    def matches(self, subject: str) -> bool:
        """True when `subject` is one this transform rewrites."""
        return subject_matches(self.source, subject)

    def apply(self, subject: str) -> str:
        """The destination for a matching literal subject."""
        tokens = subject.split(".")
        pattern = self.source.split(".")
        captured = [tokens[i] for i, token in enumerate(pattern) if token == "*"]
        out: list[str] = []
        for token in self.destination.split("."):
            index = _index(token) if token.startswith(("{{", "$")) else None
            if index is not None:
                out.append(captured[index - 1])
            elif token == ">":
                out.extend(tokens[len(pattern) - 1 :])
            else:
                out.append(token)
        return ".".join(out)


def _index(token: str) -> int | None:
    match = _WILDCARD.match(token) or _DOLLAR.match(token)
    return int(match.group(1)) if match else None
