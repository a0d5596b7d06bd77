"""Files and directories named in a config, opened where nats-server 2.15.1 opens them.

nats-server opens every path in its config as given: a relative one is relative to its working
directory, not to the config file (only `include` is relative to the including file, see
confparse.py). tests/e2e/test_stub_config_paths.py checks each against the real binary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server_stub.errors import ConfigError


def config_path(value: Any) -> Path:
    """The path a config value names, made absolute now so a later chdir cannot move it."""
    return Path(str(value)).absolute()


def read_config_file(value: Any, what: str, where: str) -> str:
    """The text of the file a config value names; one clear error (at `where`) if unreadable."""
    path = config_path(value)
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        hint = "" if Path(str(value)).is_absolute() else " (relative to the working directory)"
        raise ConfigError(f"{where}: cannot read {what} {path}{hint}: {reason}") from None
