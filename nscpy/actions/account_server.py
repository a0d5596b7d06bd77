"""push, pull and operator import against an HTTP account server (nsc's http(s) URLs).

nats-server's URL resolver reads account JWTs from such a server (`nscpy account-server` is
one); nsc pushes to it with one POST per account and pulls with one GET per account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.report import ERROR, OK
from nscpy.resolver.http import (
    AccountServerError,
    HttpAnswer,
    account_url,
    get_jwt,
    is_account_server_url,
    operator_url,
    post_jwt,
)

if TYPE_CHECKING:
    from nscpy.actions.connection import Connection

# an account server may tell running servers before it answers (nscpy account-server --notify)
_HTTP_TIMEOUT = 10.0


@dataclass
class HttpPushOutcome:
    """The account server's answer to each POST; `check()` raises for the first refusal."""

    url: str
    names: dict[str, str]
    answers: dict[str, HttpAnswer] = field(default_factory=dict)

    def _label(self, key: str) -> str:
        name = self.names.get(key)
        return f"{name} ({key})" if name else key

    def lines(self) -> list[tuple[str, str]]:
        """(level, text): one per pushed account, then a summary."""
        out: list[tuple[str, str]] = [(OK, f"pushing to account server {self.url}")]
        for key, answer in sorted(self.answers.items()):
            out.append((OK if answer.ok else ERROR, f"{self._label(key)}: {answer.describe()}"))
        stored = sum(a.ok for a in self.answers.values())
        level = OK if stored == len(self.answers) else ERROR
        out.append((level, f"{stored} of {len(self.answers)} accounts stored"))
        return out

    def check(self) -> None:
        """Raise for the first account the server did not take."""
        for key, answer in sorted(self.answers.items()):
            if not answer.ok:
                raise ActionError(f"account server refused {self._label(key)}: {answer.describe()}")

    def to_json(self) -> dict[str, Any]:
        """The same shape as a resolver push's JSON."""
        return {
            "urls": [self.url],
            "as": "http",
            "lines": [{"level": level, "text": text} for level, text in self.lines()],
            "server_only": [],
        }


def push_http(
    base: str, jwts: dict[str, str], names: dict[str, str], conn: Connection
) -> HttpPushOutcome:
    """POST each account JWT to `<base>/accounts/<key>`."""
    outcome = HttpPushOutcome(base, names)
    for key, token in sorted(jwts.items()):
        outcome.answers[key] = post_jwt(
            account_url(base, key),
            token,
            timeout=max(conn.timeout, _HTTP_TIMEOUT),
            ca_file=conn.ca_file,
        )
    return outcome


def fetch_account(base: str, key: str, conn: Connection) -> str | None:
    """The account server's JWT for key, or None when it has none (404)."""
    answer = get_jwt(
        account_url(base, key), timeout=max(conn.timeout, _HTTP_TIMEOUT), ca_file=conn.ca_file
    )
    if answer.status == 404:
        return None
    if not answer.ok:
        raise ActionError(answer.describe())
    return answer.text.strip()


def operator_source(value: str, env: dict[str, str] | None = None) -> str:
    """What `add operator -u VALUE` reads: VALUE itself (a URL or a file), or the URL in
    nsc's `NSC_<NAME>_OPERATOR` variable when VALUE names one (`-u acme` with
    NSC_ACME_OPERATOR=http://…/jwt/v1/operator)."""
    environ = os.environ if env is None else env
    if is_account_server_url(value) or "/" in value or os.path.exists(value):
        return value
    named = environ.get(f"NSC_{value.upper()}_OPERATOR")
    if named:
        return named
    variable = f"NSC_{value.upper()}_OPERATOR"
    raise UsageProblem(
        f"{value!r} is neither a URL, a file nor an operator named by {variable}; nscpy has no "
        "built-in well-known operators (they would be fetched from the internet): set "
        f"{variable}=http(s)://.../jwt/v1/operator or pass -u URL"
    )


def fetch_operator(url: str, timeout: float = 5.0) -> str:
    """The operator JWT at url (an account server's `…/operator`, or the URL given)."""
    if not is_account_server_url(url):
        raise UsageProblem(f"{url!r} is not an http(s) URL")
    target = url if url.rstrip("/").endswith("/operator") else operator_url(url)
    try:
        answer = get_jwt(target, timeout=timeout)
    except AccountServerError as exc:
        raise ActionError(str(exc)) from None
    if not answer.ok:
        raise ActionError(f"cannot fetch the operator JWT: {answer.describe()}")
    return answer.text.strip()
