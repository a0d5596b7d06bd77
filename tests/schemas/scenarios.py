"""One run of every `--json` command, in an order that works on one fresh store.

Each step is (command words, argv after the words); the runner adds `-H STORE` in front and
`--json` at the end. `{dir}` is a scratch directory; `{user_jwt}`/`{acct_jwt}` are files the
runner writes (user bob's and account B's JWTs). push and pull need a resolver:
tests/schemas/test_server_json.py runs them against the plugin's nats_server.
"""

from __future__ import annotations

Step = tuple[str, tuple[str, ...]]

STEPS: list[Step] = [
    ("init", ("-n", "demo")),
    ("add account", ("-n", "B")),
    ("add user", ("-a", "B", "-n", "bob", "--allow-pub", "b.>")),
    ("add export", ("-a", "demo", "--subject", "svc.>", "--service")),
    ("add export", ("-a", "demo", "--subject", "feed.>", "--private")),
    ("add import", ("-a", "B", "--src-account", "demo", "--remote-subject", "svc.>", "--service")),
    ("add mapping", ("-a", "B", "-f", "in.x", "-t", "out.x")),
    ("edit account", ("-n", "B", "--conns", "10", "--js-enable", "1")),
    ("edit user", ("-a", "B", "-n", "bob", "--allow-sub", "b.>", "--tag", "t1")),
    ("edit signing-key", ("-a", "B", "--sk", "generate", "--role", "svc", "--allow-pub", "s.>")),
    ("edit operator", ("--tag", "prod")),
    ("edit export", ("-a", "demo", "--subject", "svc.>", "--description", "the service")),
    ("edit authcallout", ("-a", "B", "--auth-user", "bob", "--allowed-account", "*")),
    ("edit authcallout", ("-a", "B", "--disable")),
    ("revoke user", ("-a", "B", "-n", "bob", "--at", "1000")),
    ("revocations add-user", ("-a", "B", "-u", "*", "--at", "2000")),
    ("revocations list-users", ("-a", "B")),
    ("revocations delete-user", ("-a", "B", "-u", "*")),
    ("revocations add-activation", ("-a", "demo", "-s", "feed.>", "-t", "*", "--at", "1000")),
    ("revocations list-activations", ("-a", "demo", "-s", "feed.>")),
    ("revocations delete-activation", ("-a", "demo", "-s", "feed.>", "-t", "*")),
    ("describe operator", ("-n", "demo")),
    ("describe account", ("-n", "B")),
    ("describe user", ("-a", "B", "-n", "bob")),
    ("describe jwt", ("-f", "{user_jwt}")),
    ("list operators", ()),
    ("list accounts", ()),
    ("list users", ("-a", "B")),
    ("list keys", ("-A",)),
    ("list keys", ("-A", "-S")),
    ("env", ()),
    ("validate", ("-A",)),
    ("expirations", ()),
    ("generate nkey", ("--account",)),
    ("generate nkey", ("--user", "--store")),
    ("export keys", ("-d", "{dir}/keys", "-A")),
    ("import keys", ("-d", "{dir}/keys")),
    ("import user", ("-f", "{user_jwt}", "--overwrite")),
    ("import account", ("-f", "{acct_jwt}", "--overwrite")),
    ("delete mapping", ("-a", "B", "-f", "in.x")),
    ("delete import", ("-a", "B", "-s", "svc.>")),
    ("delete export", ("-a", "demo", "-s", "svc.>")),
    ("add user", ("-a", "B", "-n", "carol")),
    ("delete user", ("-a", "B", "-n", "carol", "--revoke")),
    ("add account", ("-n", "gone")),
    ("delete account", ("-n", "gone")),
    ("add operator", ("-n", "other")),
    ("reissue operator", ("-n", "other")),
]
