"""Request inboxes: the reply subjects client libraries make (`_INBOX.<prefix>.<token>` in nats.go
and nats.py; JetStream acks go to them too). Each is published to about once, so the server's
caches leave them out (the match cache, read_pubs' remembered lines, Session.publishable, the
delivery subject bytes) and SubList.match_inbox matches them by their parent instead."""

INBOX_PREFIX = "_INBOX."
INBOX_PREFIX_BYTES = b"_INBOX."
