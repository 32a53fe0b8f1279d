"""Encryption of payloads at rest, with a data key per notice (DESIGN.md section 9).

Each stored payload is encrypted under its own random data key; each data key is stored wrapped
(encrypted) under the node's storage key. Destroying a data key's wrapped copy makes its
payloads unreadable for good (crypto-shredding) while metadata, receipts and the audit log stay
and still verify. The associated data binds each ciphertext to its purpose and row, so a
ciphertext copied onto another row, or a data key onto another notice, does not open.
"""

from __future__ import annotations

from gateway.core import crypto
from gateway.errors import GatewayError

__all__ = ["AtRestError", "new_data_key", "open_payload", "seal_payload", "unwrap_key", "wrap_key"]

DATA_KEY_LABEL = b"gw-data-key-v1\0"
PAYLOAD_LABEL = b"gw-payload-at-rest-v1\0"


class AtRestError(GatewayError):
    """A stored key or payload does not decrypt: wrong storage key, or the data was altered."""


def new_data_key() -> bytes:
    return crypto.random_bytes(crypto.AEAD_KEY_BYTES)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = crypto.random_bytes(crypto.AEAD_NONCE_BYTES)
    return nonce + crypto.aead_encrypt(key, nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    nonce, ciphertext = sealed[: crypto.AEAD_NONCE_BYTES], sealed[crypto.AEAD_NONCE_BYTES :]
    try:
        return crypto.aead_decrypt(key, nonce, ciphertext, aad)
    except crypto.CryptoFailure as exc:
        raise AtRestError(f"{what} does not decrypt (wrong storage key or altered data)") from exc


def wrap_key(storage_key: bytes, data_key: bytes, context: bytes) -> bytes:
    return _seal(storage_key, data_key, DATA_KEY_LABEL + context)


def unwrap_key(storage_key: bytes, wrapped: bytes, context: bytes) -> bytes:
    return _open(storage_key, wrapped, DATA_KEY_LABEL + context, "data key")


def seal_payload(data_key: bytes, payload: bytes, context: bytes) -> bytes:
    return _seal(data_key, payload, PAYLOAD_LABEL + context)


def open_payload(data_key: bytes, sealed: bytes, context: bytes) -> bytes:
    return _open(data_key, sealed, PAYLOAD_LABEL + context, "stored payload")
