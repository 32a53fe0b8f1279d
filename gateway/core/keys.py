"""A node's three key pairs, key ids and the fingerprint operators compare out of band.

DESIGN.md section 3: an Ed25519 envelope signing key, an X25519 encryption key and an Ed25519
audit key, generated independently (never derived from one another, so that losing or rotating
one says nothing about the others). Private halves are only ever held in these typed wrappers;
their reprs never show key material, so a key cannot leak into a log by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.core import crypto
from gateway.errors import ConfigError

__all__ = [
    "KEY_ID_BYTES",
    "EncryptionKeyPair",
    "NodeKeys",
    "SigningKeyPair",
    "fingerprint",
    "fingerprints_match",
    "key_id",
]

KEY_ID_BYTES = 8
FINGERPRINT_LABEL = b"gw-fingerprint-v1"
# 128 bits, shown as 8 groups of 4 hex digits: long enough that a collision needs ~2^64 work,
# short enough to read aloud over the phone.
FINGERPRINT_BYTES = 16


def key_id(public_key: bytes) -> bytes:
    """The first 8 bytes of BLAKE2b-256 of the public key (DESIGN.md section 3)."""
    return crypto.blake2b_256(public_key)[:KEY_ID_BYTES]


def _check_len(name: str, value: bytes) -> None:
    if len(value) != crypto.KEY_BYTES:
        raise ConfigError(f"{name} must be {crypto.KEY_BYTES} bytes, got {len(value)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKeyPair:
    """An Ed25519 key pair, used for envelopes, receipts and cards, or for audit checkpoints."""

    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)
    # The expanded secret key, derived once: re-deriving it costs a third of every signature.
    _secret_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_len("an Ed25519 seed", self.seed)
        public, secret = crypto.ed25519_keypair(self.seed)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "_secret_key", secret)

    @classmethod
    def generate(cls) -> SigningKeyPair:
        return cls(seed=crypto.random_bytes(crypto.KEY_BYTES))

    @property
    def key_id(self) -> bytes:
        return key_id(self.public_key)

    def sign(self, label: bytes, message: bytes) -> bytes:
        """Sign `label || message`; every purpose has its own label."""
        return crypto.ed25519_sign_expanded(self._secret_key, label + message)


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionKeyPair:
    """An X25519 key pair that receives sealed content keys."""

    private_key: bytes = field(repr=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        _check_len("an X25519 private key", self.private_key)
        object.__setattr__(self, "public_key", crypto.x25519_public_key(self.private_key))

    @classmethod
    def generate(cls) -> EncryptionKeyPair:
        return cls(private_key=crypto.random_bytes(crypto.KEY_BYTES))

    @property
    def key_id(self) -> bytes:
        return key_id(self.public_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeKeys:
    signing: SigningKeyPair
    encryption: EncryptionKeyPair
    audit: SigningKeyPair

    def __post_init__(self) -> None:
        if self.signing.public_key == self.audit.public_key:
            raise ConfigError("the signing and audit keys must be different keys")

    @classmethod
    def generate(cls) -> NodeKeys:
        return cls(
            signing=SigningKeyPair.generate(),
            encryption=EncryptionKeyPair.generate(),
            audit=SigningKeyPair.generate(),
        )


def fingerprint(node_id: str, signing_key: bytes, encryption_key: bytes, audit_key: bytes) -> str:
    """A human-comparable fingerprint of a node's identity and its three public keys.

    Operators read it to each other out of band before trusting a card (as with Signal's
    safety numbers). Length-prefixing the node id keeps the encoding unambiguous.
    """
    node = node_id.encode()
    digest = (
        crypto.blake2b_256(
            FINGERPRINT_LABEL
            + len(node).to_bytes(2, "big")
            + node
            + signing_key
            + encryption_key
            + audit_key
        )[:FINGERPRINT_BYTES]
        .hex()
        .upper()
    )
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def fingerprints_match(expected: str, actual: str) -> bool:
    """Compare fingerprints ignoring case, spaces and dashes, the way people type them."""

    def norm(s: str) -> bytes:
        return "".join(ch for ch in s.upper() if ch not in " -:").encode()

    return crypto.ct_equal(norm(expected), norm(actual))
