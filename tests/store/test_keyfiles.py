"""gateway.store.keyfiles: key files created 0600 in a 0700 directory, and refused when unsafe."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.store.keyfiles import KeyMaterial, create_keys, load_keys

PURPOSES = ("signing", "encryption", "audit", "storage")


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def created(key_dir: Path) -> KeyMaterial:
    return create_keys(key_dir)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _same(a: KeyMaterial, b: KeyMaterial) -> bool:
    return (
        a.node.signing.seed == b.node.signing.seed
        and a.node.encryption.private_key == b.node.encryption.private_key
        and a.node.audit.seed == b.node.audit.seed
        and a.storage_key == b.storage_key
    )


def test_create_keys_writes_four_private_files_in_a_private_directory(
    key_dir: Path, created: KeyMaterial
) -> None:
    assert _mode(key_dir) == 0o700
    assert sorted(p.name for p in key_dir.iterdir()) == sorted(f"{p}.key" for p in PURPOSES)
    for purpose in PURPOSES:
        assert _mode(key_dir / f"{purpose}.key") == 0o600


def test_key_files_hold_one_labelled_line(key_dir: Path, created: KeyMaterial) -> None:
    secrets = {
        "signing": created.node.signing.seed,
        "encryption": created.node.encryption.private_key,
        "audit": created.node.audit.seed,
        "storage": created.storage_key,
    }
    for purpose, secret in secrets.items():
        text = (key_dir / f"{purpose}.key").read_text()
        assert text == f"gateway-{purpose}-key-v1 {secret.hex()}\n"


def test_created_keys_are_independent(created: KeyMaterial) -> None:
    secrets = [
        created.node.signing.seed,
        created.node.encryption.private_key,
        created.node.audit.seed,
        created.storage_key,
    ]
    assert len(set(secrets)) == 4
    assert all(len(s) == 32 for s in secrets)


def test_load_keys_round_trip(key_dir: Path, created: KeyMaterial) -> None:
    loaded = load_keys(key_dir)
    assert _same(loaded, created)
    assert loaded.node.signing.public_key == created.node.signing.public_key
    assert loaded.node.encryption.public_key == created.node.encryption.public_key


def test_create_keys_refuses_to_overwrite(key_dir: Path, created: KeyMaterial) -> None:
    before = {p.name: p.read_bytes() for p in key_dir.iterdir()}
    with pytest.raises(ConfigError, match="not overwriting"):
        create_keys(key_dir)
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == before
    assert _same(load_keys(key_dir), created)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_create_keys_refuses_when_any_one_key_file_exists(key_dir: Path, purpose: str) -> None:
    key_dir.mkdir(mode=0o700)
    existing = key_dir / f"{purpose}.key"
    existing.write_text("keep me\n")
    with pytest.raises(ConfigError, match=purpose):
        create_keys(key_dir)
    assert existing.read_text() == "keep me\n"
    assert [p.name for p in key_dir.iterdir()] == [existing.name]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601])
def test_a_key_file_others_can_read_is_refused(
    key_dir: Path, created: KeyMaterial, mode: int
) -> None:
    path = key_dir / "encryption.key"
    path.chmod(mode)
    with pytest.raises(ConfigError) as info:
        load_keys(key_dir)
    message = str(info.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert created.node.encryption.private_key.hex() not in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_accepted(key_dir: Path, created: KeyMaterial, mode: int) -> None:
    for purpose in PURPOSES:
        (key_dir / f"{purpose}.key").chmod(mode)
    assert _same(load_keys(key_dir), created)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_missing_key_file_says_to_run_gateway_init(
    key_dir: Path, created: KeyMaterial, purpose: str
) -> None:
    path = key_dir / f"{purpose}.key"
    path.unlink()
    with pytest.raises(ConfigError, match="run `gateway init`") as info:
        load_keys(key_dir)
    assert str(path) in str(info.value)


def test_a_missing_key_directory_says_to_run_gateway_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `gateway init`"):
        load_keys(tmp_path / "nowhere")


def _overwrite(path: Path, content: bytes) -> None:
    path.write_bytes(content)  # keeps the file's 0600 mode
    assert _mode(path) == 0o600


def test_a_key_file_of_the_wrong_purpose_is_refused(key_dir: Path, created: KeyMaterial) -> None:
    audit = key_dir / "audit.key"
    _overwrite(audit, (key_dir / "signing.key").read_bytes())
    with pytest.raises(ConfigError, match="is not a gateway audit key") as info:
        load_keys(key_dir)
    assert str(audit) in str(info.value)


def test_the_storage_key_pasted_into_the_encryption_slot_is_refused(
    key_dir: Path, created: KeyMaterial
) -> None:
    path = key_dir / "encryption.key"
    _overwrite(path, (key_dir / "storage.key").read_bytes())
    with pytest.raises(ConfigError, match="is not a gateway encryption key"):
        load_keys(key_dir)


def test_the_same_seed_for_signing_and_audit_is_refused(
    key_dir: Path, created: KeyMaterial
) -> None:
    seed = created.node.signing.seed.hex()
    _overwrite(key_dir / "audit.key", f"gateway-audit-key-v1 {seed}\n".encode())
    with pytest.raises(ConfigError, match="different"):
        load_keys(key_dir)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"gateway-signing-key-v1 zz" + b"00" * 31 + b"\n", "damaged \\(not hex\\)"),
        (b"gateway-signing-key-v1 " + b"00" * 31 + b"\n", "damaged \\(wrong length\\)"),
        (b"gateway-signing-key-v1 " + b"00" * 33 + b"\n", "damaged \\(wrong length\\)"),
        (b"gateway-signing-key-v1 \n", "is not a gateway signing key"),
        (b"gateway-signing-key-v1 abc\n", "damaged \\(not hex\\)"),
        (b"", "is not a gateway signing key"),
        (b"\x00\xff\xfe binary garbage", "is not a gateway signing key"),
        (b"gateway-signing-key-v2 " + b"00" * 32 + b"\n", "is not a gateway signing key"),
        (b"-----BEGIN PRIVATE KEY-----\n", "is not a gateway signing key"),
    ],
    ids=["not-hex", "short", "long", "empty-hex", "odd-hex", "empty", "binary", "v2", "pem"],
)
def test_a_damaged_key_file_is_refused(
    key_dir: Path, created: KeyMaterial, content: bytes, expected: str
) -> None:
    path = key_dir / "signing.key"
    _overwrite(path, content)
    with pytest.raises(ConfigError, match=expected) as info:
        load_keys(key_dir)
    assert str(path) in str(info.value)


def test_key_files_are_created_without_a_readable_window(key_dir: Path) -> None:
    # Even with a permissive umask, no key file is ever created readable by others.
    old = os.umask(0)
    try:
        create_keys(key_dir)
    finally:
        os.umask(old)
    for purpose in PURPOSES:
        assert _mode(key_dir / f"{purpose}.key") == 0o600
    assert _mode(key_dir) == 0o700


def test_key_material_repr_is_redacted(created: KeyMaterial) -> None:
    assert repr(created) == "KeyMaterial(<redacted>)"
    assert created.storage_key.hex() not in repr(created)
