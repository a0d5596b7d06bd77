"""`python -m server_stub.jetstream STORE_DIR [CIPHER KEY_ENV_VAR]`: a no-auth server with
JetStream on a free port (tests and bench); prints the URL, runs until killed."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from server_stub.jetstream.host import attach
from server_stub.options import ServerOptions
from server_stub.server import Server


async def serve(store_dir: str, cipher: str | None, key_env: str | None) -> None:
    """Run the server until cancelled; the key is read from the environment variable key_env."""
    server = Server(ServerOptions(port=0))
    await server.start()
    block: dict[str, Any] = {"store_dir": store_dir}
    if cipher:
        block.update(cipher=cipher, key=f"${key_env}")
    server.services.append(attach(server, block))
    print(server.url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m server_stub.jetstream STORE_DIR [CIPHER KEY_ENV_VAR]` (tests and bench)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) not in (1, 3):
        print(main.__doc__, file=sys.stderr)
        return 2
    cipher, key_env = (args[1], args[2]) if len(args) == 3 else (None, None)
    asyncio.run(serve(args[0], cipher, key_env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
