"""Hypothesis: encode/decode round trips for every claim kind; bad tokens raise only JWTError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nscpy import jwt
from nscpy.keys import KeyPair, Prefix, create_pair

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pair(prefix: Prefix, byte: int) -> KeyPair:
    return create_pair(prefix, rng=lambda n: bytes([byte]) * n)


OPERATOR = _pair(Prefix.OPERATOR, 11)
ACCOUNT = _pair(Prefix.ACCOUNT, 12)
USER = _pair(Prefix.USER, 13)
SERVER = _pair(Prefix.SERVER, 14)

# any Unicode except lone surrogates (UTF-8 cannot carry them)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
subject = st.lists(st.sampled_from(["a", "b", "*", "<&>", "ü"]), min_size=1, max_size=4).map(
    ".".join
)
subjects = st.lists(subject, max_size=3)
int64 = st.integers(-(2**63), 2**63 - 1)
small = st.integers(-1, 10**12)
times = st.integers(0, 2**40)


def _standard(draw: st.DrawFn, claims: jwt.AnyClaims) -> None:
    claims.audience = draw(text)
    claims.expires = draw(times)
    claims.name = draw(text)
    claims.not_before = draw(times)


@st.composite
def users(draw: st.DrawFn) -> jwt.UserClaims:
    user = jwt.UserClaims.new(USER.public_key)
    _standard(draw, user)
    user.pub = jwt.Permission(draw(subjects), draw(subjects))
    user.sub = jwt.Permission(draw(subjects), draw(subjects))
    if draw(st.booleans()):
        user.resp = jwt.ResponsePermission(draw(small), draw(int64))
    user.src = draw(st.lists(st.sampled_from(["10.0.0.0/8", "::1/128"]), max_size=2))
    user.times = [jwt.TimeRange(draw(text), draw(text)) for _ in range(draw(st.integers(0, 2)))]
    user.times_location = draw(text)
    user.subs, user.data, user.payload = draw(small), draw(int64), draw(small)
    user.bearer_token, user.proxy_required = draw(st.booleans()), draw(st.booleans())
    user.allowed_connection_types = draw(st.lists(text, max_size=2))
    user.issuer_account = draw(st.sampled_from(["", ACCOUNT.public_key]))
    user.tags = draw(st.lists(text, max_size=3))
    return user


@st.composite
def accounts(draw: st.DrawFn) -> jwt.AccountClaims:
    account = jwt.AccountClaims.new(ACCOUNT.public_key)
    _standard(draw, account)
    kinds = st.sampled_from(["stream", "service"])
    account.exports = [
        jwt.Export(
            name=draw(text),
            subject=draw(subject),
            type=draw(kinds),
            token_req=draw(st.booleans()),
            revocations=jwt.RevocationList({draw(text): draw(times)}),
            response_threshold=draw(st.integers(0, 10**12)),
            latency=draw(st.none() | st.builds(jwt.ServiceLatency, st.integers(0, 100), subject)),
            account_token_position=draw(st.integers(0, 5)),
            description=draw(text),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    account.imports = [
        jwt.Import(name=draw(text), subject=draw(subject), account=draw(text), type=draw(kinds))
        for _ in range(draw(st.integers(0, 3)))
    ]
    account.limits.tiered_limits = draw(
        st.dictionaries(text, st.builds(jwt.JetStreamLimits, small, small), max_size=2)
    )
    if not account.limits.tiered_limits:
        account.limits.jetstream = jwt.JetStreamLimits(draw(small), draw(small))
    if draw(st.booleans()):
        account.signing_keys.add(USER.public_key)
    if draw(st.booleans()):
        scope = jwt.UserScope(key=ACCOUNT.public_key, role=draw(text), description=draw(text))
        scope.template.pub.allow = draw(subjects)
        account.signing_keys.add_scoped(scope)
    account.revocations = jwt.RevocationList(draw(st.dictionaries(text, times, max_size=3)))
    account.mappings = draw(
        st.dictionaries(
            subject,
            st.lists(
                st.builds(jwt.WeightedMapping, subject, st.integers(0, 255), text), max_size=2
            ),
            max_size=2,
        )
    )
    account.authorization.auth_users = draw(st.lists(text, max_size=2))
    if draw(st.booleans()):
        account.trace = jwt.MsgTrace(draw(subject), draw(st.integers(0, 100)))
    account.cluster_traffic = draw(text)
    account.info_url = draw(text)
    return account


@st.composite
def operators(draw: st.DrawFn) -> jwt.OperatorClaims:
    operator = jwt.OperatorClaims.new(OPERATOR.public_key)
    _standard(draw, operator)
    operator.signing_keys = draw(st.lists(text, max_size=2))
    operator.operator_service_urls = draw(st.lists(text, max_size=2))
    operator.system_account = draw(text)
    operator.assert_server_version = draw(text)
    operator.strict_signing_key_usage = draw(st.booleans())
    return operator


@st.composite
def others(draw: st.DrawFn) -> tuple[jwt.AnyClaims, KeyPair]:
    which = draw(st.integers(0, 3))
    if which == 0:
        act = jwt.ActivationClaims.new(ACCOUNT.public_key)
        _standard(draw, act)
        act.import_subject = draw(subject)
        act.import_type = draw(st.sampled_from(["", "stream", "service"]))
        return act, ACCOUNT
    if which == 1:
        req = jwt.AuthorizationRequestClaims.new(ACCOUNT.public_key)
        _standard(draw, req)
        req.server_id = jwt.ServerID(draw(text), draw(text), draw(text), tags=[draw(text)])
        req.user_nkey = USER.public_key
        req.client_info.id = draw(st.integers(0, 2**64 - 1))
        req.connect_opts.protocol = draw(st.integers(-5, 5))
        if draw(st.booleans()):
            req.client_tls = jwt.ClientTLS(draw(text), verified_chains=[[draw(text)]])
        return req, SERVER
    if which == 2:
        resp = jwt.AuthorizationResponseClaims.new(USER.public_key)
        _standard(draw, resp)
        resp.jwt, resp.error = draw(text), draw(text)
        return resp, ACCOUNT
    generic = jwt.GenericClaims.new(draw(text.filter(bool)))
    _standard(draw, generic)
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=6,
    )
    generic.data = draw(st.dictionaries(text, json_values, max_size=4))
    return generic, ACCOUNT


def _round_trip(claims: jwt.AnyClaims, signer: KeyPair) -> None:
    token = jwt.encode(claims, signer, iat=1_700_000_000)
    again = (
        jwt.decode_generic(token) if isinstance(claims, jwt.GenericClaims) else jwt.decode(token)
    )
    assert again.to_json_dict() == claims.to_json_dict()
    assert jwt.encode(again, signer, iat=1_700_000_000) == token


@FAST
@given(users())
def test_user_round_trip(user: jwt.UserClaims) -> None:
    _round_trip(user, ACCOUNT)


@FAST
@given(accounts())
def test_account_round_trip(account: jwt.AccountClaims) -> None:
    _round_trip(account, OPERATOR)


@FAST
@given(operators())
def test_operator_round_trip(operator: jwt.OperatorClaims) -> None:
    _round_trip(operator, OPERATOR)


@FAST
@given(others())
def test_other_kinds_round_trip(case: tuple[jwt.AnyClaims, KeyPair]) -> None:
    _round_trip(*case)


_BASE_USER = jwt.UserClaims.new(USER.public_key)
_BASE_USER.pub.allow = ["foo.>"]
TOKEN = jwt.encode(_BASE_USER, ACCOUNT, iat=1_700_000_000)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    token = TOKEN
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(token)))
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        char = draw(st.characters(max_codepoint=0x7F) | st.sampled_from(".=\r\n-_"))
        if op == "insert":
            token = token[:index] + char + token[index:]
        elif op == "delete":
            token = token[:index] + token[index + 1 :]
        else:
            token = token[:index] + char + token[index + 1 :]
    return token


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_mutated_token_raises_only_jwt_errors(token: str) -> None:
    for decoder in (jwt.decode, jwt.decode_generic, jwt.peek):
        try:
            claims = decoder(token)
        except jwt.JWTError:
            continue
        if decoder is jwt.decode:
            # a mutation that survived must not have touched the signed bytes' meaning
            assert claims.subject == USER.public_key


_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
_any_json = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_NATS_KEYS = [
    "type",
    "version",
    "pub",
    "sub",
    "resp",
    "src",
    "times",
    "subs",
    "tags",
    "imports",
    "exports",
    "limits",
    "signing_keys",
    "revocations",
    "mappings",
    "trace",
    "kind",
    "subject",
    "server_id",
    "client_tls",
    "tiered_limits",
    "authorization",
    "default_permissions",
    "Type",
]
_nats = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "user",
                "account",
                "operator",
                "activation",
                "authorization_request",
                "authorization_response",
                "x",
                3,
            ]
        )
    },
    optional={"version": st.sampled_from([1, 2, 3, 0, "2", None])},
).flatmap(
    lambda base: st.dictionaries(st.sampled_from(_NATS_KEYS), _any_json, max_size=4).map(
        lambda extra: {**extra, **base}
    )
)
_payloads = st.fixed_dictionaries(
    {"iss": st.sampled_from([ACCOUNT.public_key, "", 5]), "nats": _nats | _any_json},
    optional={
        "type": st.sampled_from(["user", "activation", "account", "operator", 7]),
        "sub": _any_json,
        "iat": _any_json,
        "NATS": _any_json,
    },
)


@settings(max_examples=300, deadline=None)
@given(_payloads)
def test_random_payloads_raise_only_jwt_errors(payload: dict[str, object]) -> None:
    import base64

    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    token = f"{TOKEN.split('.')[0]}.{body}.{TOKEN.split('.')[2]}"
    for decoder in (jwt.decode, jwt.decode_generic, jwt.peek):
        try:
            decoder(token)
        except jwt.JWTError:
            pass
