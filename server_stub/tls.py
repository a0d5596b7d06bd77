"""TLS contexts for the server: the only module that touches ssl."""

from __future__ import annotations

import ssl

from server_stub.errors import ConfigError
from server_stub.options import TLSOptions


def server_context(opts: TLSOptions) -> ssl.SSLContext:
    """A server-side context from the tls {} block; verify=true requires client certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    files = {"cert_file": opts.cert_file, "key_file": opts.key_file, "ca_file": opts.ca_file}
    for key, path in files.items():  # ssl's own error does not say which file
        try:
            if path is not None:
                path.open("rb").close()
        except OSError as exc:
            raise ConfigError(f"tls: cannot read {key} {path}: {exc.strerror}") from None
    try:
        ctx.load_cert_chain(str(opts.cert_file), str(opts.key_file))
        if opts.ca_file is not None:
            ctx.load_verify_locations(cafile=str(opts.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"tls: cannot load certificate or key: {exc}") from None
    if opts.verify:
        if opts.ca_file is None:
            raise ConfigError("tls: verify: true needs ca_file to check client certificates")
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
