"""nscpy.api.Connection: the TLS files are ca_file/cert_file/key_file, as in nscpy.resolver and
nats-server's tls block; the 0.1 keywords named after the CLI flags still work."""

from __future__ import annotations

from nscpy.api import Connection


def test_tls_files_are_spelled_as_in_the_resolver_options() -> None:
    conn = Connection(
        url="nats://127.0.0.1:4222", ca_file="ca.pem", cert_file="c.pem", key_file="k.pem"
    )
    assert (conn.ca_file, conn.cert_file, conn.key_file) == ("ca.pem", "c.pem", "k.pem")


def test_the_flag_named_keywords_of_0_1_still_work() -> None:
    conn = Connection(ca_cert="ca.pem", client_cert="c.pem", client_key="k.pem")
    assert (conn.ca_file, conn.cert_file, conn.key_file) == ("ca.pem", "c.pem", "k.pem")
    assert Connection() == Connection(ca_file=None)
