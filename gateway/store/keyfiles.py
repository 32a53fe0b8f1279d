"""Key files: one private key per file, created 0600, refused when others can read them.

A key file holds a single line, `gateway-<purpose>-key-v1 <hex>`, so that an operator can tell
the files apart and a key pasted into the wrong slot fails clearly. Files are created with
O_EXCL and mode 0600 in one step (no window in which they are world-readable) and fsynced with
their directory, and a load refuses any file that a group or other user could read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gateway.core import crypto
from gateway.core.keys import EncryptionKeyPair, NodeKeys, SigningKeyPair
from gateway.errors import ConfigError

__all__ = ["KeyMaterial", "create_keys", "load_keys"]

PURPOSES = ("signing", "encryption", "audit", "storage")


class KeyMaterial:
    """A node's key pairs plus its symmetric storage key, as loaded from its key directory."""

    __slots__ = ("node", "storage_key")

    def __init__(self, node: NodeKeys, storage_key: bytes) -> None:
        self.node = node
        self.storage_key = storage_key

    def __repr__(self) -> str:
        return "KeyMaterial(<redacted>)"


def _path(key_dir: Path, purpose: str) -> Path:
    return key_dir / f"{purpose}.key"


def _write_new(path: Path, purpose: str, secret: bytes) -> None:
    line = f"gateway-{purpose}-key-v1 {secret.hex()}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_keys(key_dir: Path, node: NodeKeys | None = None) -> KeyMaterial:
    """Write `node`'s keys (fresh ones if None) and a new storage key into `key_dir` (0700).

    Refuses to overwrite existing key files.
    """
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_dir.chmod(0o700)  # mkdir leaves an existing directory's mode as it was
    existing = [p for p in PURPOSES if _path(key_dir, p).exists()]
    if existing:
        raise ConfigError(
            f"{key_dir} already holds key files ({', '.join(existing)}); not overwriting"
        )
    node = node or NodeKeys.generate()
    storage_key = crypto.random_bytes(crypto.KEY_BYTES)
    secrets = {
        "signing": node.signing.seed,
        "encryption": node.encryption.private_key,
        "audit": node.audit.seed,
        "storage": storage_key,
    }
    for purpose in PURPOSES:
        _write_new(_path(key_dir, purpose), purpose, secrets[purpose])
    dir_fd = os.open(key_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return KeyMaterial(node, storage_key)


def _read(key_dir: Path, purpose: str) -> bytes:
    path = _path(key_dir, purpose)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"key file {path} is missing; run `gateway init` for a new node") from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"key file {path} can be read by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"fix it with: chmod 600 {path}"
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    prefix = f"gateway-{purpose}-key-v1 "
    if not text.startswith(prefix):
        raise ConfigError(f"key file {path} is not a gateway {purpose} key")
    try:
        secret = bytes.fromhex(text[len(prefix) :])
    except ValueError as exc:
        raise ConfigError(f"key file {path} is damaged (not hex)") from exc
    if len(secret) != crypto.KEY_BYTES:
        raise ConfigError(f"key file {path} is damaged (wrong length)")
    return secret


def load_keys(key_dir: Path) -> KeyMaterial:
    node = NodeKeys(
        signing=SigningKeyPair(seed=_read(key_dir, "signing")),
        encryption=EncryptionKeyPair(private_key=_read(key_dir, "encryption")),
        audit=SigningKeyPair(seed=_read(key_dir, "audit")),
    )
    return KeyMaterial(node, _read(key_dir, "storage"))
