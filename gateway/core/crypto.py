"""Thin, typed wrappers over the primitives gateway uses, each mapped to our error tree.

Why these primitives (DESIGN.md section 5):
- Ed25519 (RFC 8032) for every signature: deterministic, no nonce to get wrong.
- X25519 sealed boxes (libsodium crypto_box_seal) to wrap a content key for one recipient: an
  ephemeral key per stanza, so the sender needs no long-term encryption key of its own.
- XChaCha20-Poly1305 (IETF) for content: 24-byte nonces are safe to draw at random, and every
  content key encrypts exactly one payload anyway.
- BLAKE2b-256 keyed hashing for key commitment and key ids (hashlib's is 4-5x faster than
  nacl.hash for small inputs). SHA-256 where a standard asks for it (Merkle tree, signed notes).

Every signature covers a domain-separation label (see the *_LABEL constants where they are used)
so that a signature made for one purpose can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import hmac

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

__all__ = [
    "AEAD_KEY_BYTES",
    "AEAD_NONCE_BYTES",
    "AEAD_TAG_BYTES",
    "ED25519_SIGNATURE_BYTES",
    "KEY_BYTES",
    "SEALED_KEY_BYTES",
    "CryptoFailure",
    "aead_decrypt",
    "aead_encrypt",
    "blake2b_256",
    "ct_equal",
    "ed25519_keypair",
    "ed25519_public_key",
    "ed25519_sign",
    "ed25519_sign_expanded",
    "ed25519_verify",
    "random_bytes",
    "seal_to",
    "sha256",
    "unseal",
    "x25519",
    "x25519_public_key",
]

KEY_BYTES = 32
AEAD_KEY_BYTES = 32
AEAD_NONCE_BYTES = 24
AEAD_TAG_BYTES = 16
ED25519_SIGNATURE_BYTES = 64
# crypto_box_seal output for a 32-byte message: 32-byte ephemeral public key + 16-byte MAC.
SEALED_KEY_BYTES = 32 + 16 + KEY_BYTES


class CryptoFailure(Exception):
    """A primitive refused its input (bad signature, failed authentication, bad key).

    Internal to the core: callers map it to the specific GatewayError for their context.
    """


def random_bytes(n: int) -> bytes:
    return nacl.utils.random(n)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def blake2b_256(data: bytes, *, key: bytes = b"") -> bytes:
    return hashlib.blake2b(data, key=key, digest_size=32).digest()


def ct_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison, for secrets and MAC-like values."""
    return hmac.compare_digest(a, b)


# --- Ed25519 -------------------------------------------------------------------------------


def ed25519_public_key(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    return nacl.signing.SigningKey(seed).sign(message).signature


def ed25519_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """(public key, libsodium's 64-byte expanded secret key) for a 32-byte seed."""
    public, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
    return public, secret


def ed25519_sign_expanded(secret_key: bytes, message: bytes) -> bytes:
    """Sign with an expanded secret key from ed25519_keypair (no per-call key derivation)."""
    signed: bytes = nacl.bindings.crypto_sign(message, secret_key)
    return signed[:ED25519_SIGNATURE_BYTES]


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise CryptoFailure unless `signature` is a valid signature of `message`."""
    if len(signature) != ED25519_SIGNATURE_BYTES:
        raise CryptoFailure("signature has the wrong length")
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError) as exc:
        raise CryptoFailure("bad signature") from exc


# --- X25519 --------------------------------------------------------------------------------


def x25519_public_key(private_key: bytes) -> bytes:
    return bytes(nacl.public.PrivateKey(private_key).public_key)


def x25519(private_key: bytes, public_key: bytes) -> bytes:
    """Raw X25519 scalar multiplication; raises CryptoFailure on an all-zero shared secret."""
    try:
        return nacl.bindings.crypto_scalarmult(private_key, public_key)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError) as exc:
        raise CryptoFailure("X25519 failed") from exc


def seal_to(public_key: bytes, message: bytes) -> bytes:
    """Anonymous sealed box (ephemeral X25519 + XSalsa20-Poly1305) to `public_key`."""
    try:
        return nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(message)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError) as exc:
        # libsodium refuses a low-order public key (all-zero shared secret) with a bare
        # "Unexpected library error"; it is a refused key like any other.
        raise CryptoFailure("cannot seal to this public key") from exc


def unseal(private_key: bytes, sealed: bytes, public_key: bytes | None = None) -> bytes:
    """Open a sealed box; pass `public_key` when known to skip recomputing it (hot path)."""
    try:
        if public_key is not None:
            return nacl.bindings.crypto_box_seal_open(sealed, public_key, private_key)
        return nacl.public.SealedBox(nacl.public.PrivateKey(private_key)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as exc:
        raise CryptoFailure("sealed box does not open") from exc


# --- XChaCha20-Poly1305 --------------------------------------------------------------------


def aead_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as exc:
        raise CryptoFailure("AEAD authentication failed") from exc
