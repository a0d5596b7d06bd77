"""nsc's on-disk layout as pure path arithmetic: no file system calls happen in this module.

Data store (one directory per operator under the store root)::

    <store_root>/<Op>/.nsc, <Op>/<Op>.jwt, <Op>/accounts/<A>/<A>.jwt,
    <Op>/accounts/<A>/users/<U>.jwt

Keystore::

    <keystore>/.gitignore, <keystore>/keys/<K>/<XY>/<PUBKEY>.nk,
    <keystore>/creds/<Op>/<A>/<U>.creds

where K is the public key's first character and XY its second and third (nsc ``GetKeyPath``).
Directory resolution mirrors nsc's ``home/home.go`` and ``cmd/root.go``: flags beat the
deprecated environment variables, which beat the XDG defaults; a legacy location (``~/.nsc``,
``~/.nkeys``) is used only when the new one is absent and the old one exists, which the caller
answers through the ``exists`` predicate so this module stays pure.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import NamedTuple

from nscpy.keys import decode_public
from nscpy.store.errors import InvalidName

__all__ = [
    "ACCOUNTS_DIR",
    "CREDS_DIR",
    "CREDS_EXT",
    "GITIGNORE_NAME",
    "GITIGNORE_TEXT",
    "JWT_EXT",
    "KEYS_DIR",
    "MAX_NAME_BYTES",
    "MAX_NEW_NAME_BYTES",
    "NKEY_EXT",
    "NSC_FILE",
    "NSC_JSON",
    "TEMP_MARK",
    "TEMP_TAG_MAX",
    "USERS_DIR",
    "StorePaths",
    "key_relpath",
    "resolve_paths",
    "validate_name",
]

NSC_FILE = ".nsc"
NSC_JSON = "nsc.json"
ACCOUNTS_DIR = "accounts"
USERS_DIR = "users"
KEYS_DIR = "keys"
CREDS_DIR = "creds"
JWT_EXT = ".jwt"
NKEY_EXT = ".nk"
CREDS_EXT = ".creds"
GITIGNORE_NAME = ".gitignore"
# Byte-for-byte what nsc's AddGitIgnore writes, trailing space on the first line included, so a
# keystore shared with Go nsc does not show a spurious diff.
GITIGNORE_TEXT = "# ignore all nk files \n**/*.nk\n\n# ignore all creds files\n**/*.creds\n"

# The longest name is limited by "<name>.creds" fitting the common 255-byte file name limit.
MAX_NAME_BYTES = 255 - len(CREDS_EXT)
# Writers name temp files ".<file>.tmp-<tag>" (atomic, batch) and deleted accounts
# ".<A>.deleted-<tag>"; the tag (random hex plus a counter) is at most TEMP_TAG_MAX characters.
TEMP_MARK = ".tmp-"
TEMP_TAG_MAX = 24
# A *new* name must leave room for the longest file made from it, a creds temp file, so that a
# write never fails half-way with the JWT and seed written and the creds refused.
MAX_NEW_NAME_BYTES = 255 - len(".") - len(CREDS_EXT) - len(TEMP_MARK) - TEMP_TAG_MAX

_KINDS = ("operator", "account", "user")
# Bidi embeddings/overrides/isolates let a name display as something it is not in listings.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI_CONTROLS


def validate_name(name: str, kind: str = "name") -> str:
    """Return name unchanged if it can be an nsc operator/account/user name; else InvalidName."""
    what = kind if kind in _KINDS else "name"
    if not isinstance(name, str) or name == "":
        raise InvalidName(f"{what} name must not be empty")
    if "/" in name or "\\" in name:
        raise InvalidName(f"{what} name {name!r} cannot contain '/' or '\\'")
    if name in (".", ".."):
        raise InvalidName(f"{what} name {name!r} is reserved for directories")
    # printable ASCII (most names) holds no control or bidi character: skip the per-character scan
    bad = None if name.isascii() and name.isprintable() else next(filter(_is_control, name), None)
    if bad is not None:
        raise InvalidName(
            f"{what} name {name!r} contains control character U+{ord(bad):04X}; "
            "use printable characters"
        )
    # nsc trims spaces when it builds a file name (store.SafeName) but keeps them in the JWT;
    # refusing them keeps the file name and the name claim identical.
    if name != name.strip():
        raise InvalidName(f"{what} name {name!r} has leading or trailing whitespace")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise InvalidName(f"{what} name is {size} bytes long; the limit is {MAX_NAME_BYTES}")
    return name


def key_relpath(public_key: str) -> PurePath:
    """The path of a public key's seed file relative to the keystore root (keys/K/XY/PUB.nk)."""
    decode_public(public_key)  # a checked key cannot smuggle "../" into the path
    return PurePath(KEYS_DIR, public_key[0], public_key[1:3], public_key + NKEY_EXT)


# A NamedTuple rather than a frozen dataclass: defining one costs ~0.2 ms at import instead of
# ~2 ms, and the CLI's read commands have a 100 ms start-up budget.
class StorePaths(NamedTuple):
    """Where nsc.json, the data store and the keystore live, plus the env switches that matter."""

    config_dir: Path
    data_dir: Path
    keystore_dir: Path
    cwd_only: bool = False
    git_ignore: bool = True

    def with_store_root(self, store_root: Path | str) -> StorePaths:
        """A copy whose data store is store_root (nsc.json's store_root or `env -s`)."""
        return self._replace(data_dir=Path(store_root))

    def reserved_operator_names(self) -> tuple[str, ...]:
        """Names the store's own files take in the data store directory (with -H, all three
        directories are one, so an operator named "keys" or "nsc.json" would collide)."""
        reserved: list[str] = []
        if self.config_dir == self.data_dir:
            reserved.append(NSC_JSON)
        if self.keystore_dir == self.data_dir:
            reserved += [KEYS_DIR, CREDS_DIR, GITIGNORE_NAME]
        return tuple(reserved)

    # -- config --------------------------------------------------------------------------------
    @property
    def nsc_json(self) -> Path:
        """The context file holding store_root, operator and account."""
        return self.config_dir / NSC_JSON

    # -- data store ----------------------------------------------------------------------------
    def operator_dir(self, operator: str) -> Path:
        """<store_root>/<Op>."""
        return self.data_dir / validate_name(operator, "operator")

    def operator_nsc_file(self, operator: str) -> Path:
        """<store_root>/<Op>/.nsc, the marker that makes a directory an operator store."""
        return self.operator_dir(operator) / NSC_FILE

    def operator_jwt(self, operator: str) -> Path:
        """<store_root>/<Op>/<Op>.jwt."""
        return self.operator_dir(operator) / (operator + JWT_EXT)

    def accounts_dir(self, operator: str) -> Path:
        """<store_root>/<Op>/accounts."""
        return self.operator_dir(operator) / ACCOUNTS_DIR

    def account_dir(self, operator: str, account: str) -> Path:
        """<store_root>/<Op>/accounts/<A>."""
        return self.accounts_dir(operator) / validate_name(account, "account")

    def account_jwt(self, operator: str, account: str) -> Path:
        """<store_root>/<Op>/accounts/<A>/<A>.jwt."""
        return self.account_dir(operator, account) / (account + JWT_EXT)

    def users_dir(self, operator: str, account: str) -> Path:
        """<store_root>/<Op>/accounts/<A>/users."""
        return self.account_dir(operator, account) / USERS_DIR

    def user_jwt(self, operator: str, account: str, user: str) -> Path:
        """<store_root>/<Op>/accounts/<A>/users/<U>.jwt."""
        return self.users_dir(operator, account) / (validate_name(user, "user") + JWT_EXT)

    # -- keystore ------------------------------------------------------------------------------
    @property
    def keys_dir(self) -> Path:
        """<keystore>/keys, the root of the sharded seed files."""
        return self.keystore_dir / KEYS_DIR

    @property
    def creds_root(self) -> Path:
        """<keystore>/creds."""
        return self.keystore_dir / CREDS_DIR

    @property
    def gitignore(self) -> Path:
        """<keystore>/.gitignore."""
        return self.keystore_dir / GITIGNORE_NAME

    def key_path(self, public_key: str, *, trusted: bool = False) -> Path:
        """<keystore>/keys/<K>/<XY>/<PUBKEY>.nk.

        trusted=True skips re-decoding a key the caller just derived from a seed (batches of
        10,000 keys would otherwise decode each one several times).
        """
        if not trusted:
            return self.keystore_dir / key_relpath(public_key)
        k = public_key
        return Path(f"{self.keystore_dir}/{KEYS_DIR}/{k[0]}/{k[1:3]}/{k}{NKEY_EXT}")

    def creds_dir(self, operator: str, account: str) -> Path:
        """<keystore>/creds/<Op>/<A>."""
        return (
            self.creds_root
            / validate_name(operator, "operator")
            / validate_name(account, "account")
        )

    def creds_path(self, operator: str, account: str, user: str) -> Path:
        """<keystore>/creds/<Op>/<A>/<U>.creds."""
        return self.creds_dir(operator, account) / (validate_name(user, "user") + CREDS_EXT)


def _never(_: Path) -> bool:
    return False


def _expand(value: str, home: Path, cwd: Path) -> Path:
    # Go's homedir.Expand handles only "~" and "~/..."; filepath.Abs anchors relative paths.
    if value == "~" or value.startswith("~/"):
        value = str(home) + value[1:]
    path = Path(value)
    if not path.is_absolute():
        path = cwd / path
    return Path(os.path.normpath(path))


def resolve_paths(
    env: Mapping[str, str],
    home: Path,
    *,
    cwd: Path | None = None,
    config_dir: str | None = None,
    data_dir: str | None = None,
    keystore_dir: str | None = None,
    all_dirs: str | None = None,
    exists: Callable[[Path], bool] = _never,
) -> StorePaths:
    """Resolve nsc's three directories from flags, environment and home, as nsc v2.14 does.

    Precedence per directory: ``-H/--all-dirs`` > its own flag > deprecated env var
    (``NSC_HOME`` for config, ``NKEYS_PATH`` for keys) > XDG location > legacy location if
    only that exists. ``exists`` is asked about the XDG and legacy locations only.
    """
    base = cwd if cwd is not None else home
    if all_dirs:
        config_dir = data_dir = keystore_dir = all_dirs
    if not config_dir and env.get("NSC_HOME"):
        config_dir = env["NSC_HOME"]
    if not keystore_dir and env.get("NKEYS_PATH"):
        keystore_dir = env["NKEYS_PATH"]

    xdg_config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    xdg_data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")

    def pick(flag: str | None, new: Path, new_probe: Path, old: Path, old_probe: Path) -> Path:
        if flag:
            return _expand(flag, home, base)
        if not exists(new_probe) and exists(old_probe):
            return old
        return new

    config_new = xdg_config / "nats" / "nsc"
    config_old = home / ".nsc"
    stores_new = xdg_data / "nats" / "nsc" / "stores"
    keys_new = xdg_data / "nats" / "nsc" / "keys"
    return StorePaths(
        # nsc decides the config dir by where nsc.json exists, the data dirs by the dir itself
        config_dir=pick(
            config_dir, config_new, config_new / NSC_JSON, config_old, config_old / NSC_JSON
        ),
        data_dir=pick(
            data_dir, stores_new, stores_new, home / ".nsc" / "nats", home / ".nsc" / "nats"
        ),
        keystore_dir=pick(keystore_dir, keys_new, keys_new, home / ".nkeys", home / ".nkeys"),
        # nsc tests presence (os.LookupEnv), so NSC_CWD_ONLY= (empty) also switches it on
        cwd_only="NSC_CWD_ONLY" in env,
        git_ignore="NSC_NO_GIT_IGNORE" not in env,
    )
