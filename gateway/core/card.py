"""Node cards: a node's identity, endpoint and public keys, signed by its own signing key.

A card is self-signed: the signature proves that whoever made it holds the signing key, not that
the node is who it says. Trust comes from the operator comparing the fingerprint out of band
(`gateway peer add CARD --fingerprint FP`), so `open_card` checks the signature and the shape of
every field, and the caller checks the fingerprint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway._pb.gateway.v1 import card_pb2
from gateway.core import crypto, keys
from gateway.core.wire import decode
from gateway.errors import ConfigError

__all__ = ["CARD_LABEL", "NodeCard", "open_card", "sign_card"]

CARD_LABEL = b"gw-card-v1\0"
MAX_CARD_BYTES = 4096
NODE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
ENDPOINT_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/-]*)?$")


def check_node_id(node_id: str) -> None:
    if not NODE_ID_RE.fullmatch(node_id):
        raise ConfigError(
            f"node id {node_id!r} is not valid: use 2-63 lower-case letters, digits and '-'"
        )


def check_country(country: str) -> None:
    if not COUNTRY_RE.fullmatch(country):
        raise ConfigError(f"country {country!r} is not an ISO 3166-1 alpha-2 code such as 'FR'")


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeCard:
    node_id: str
    country: str
    name: str
    endpoint: str
    signing_key: bytes
    encryption_key: bytes
    audit_key: bytes
    valid_from_ms: int
    valid_until_ms: int

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        check_country(self.country)
        if not ENDPOINT_RE.fullmatch(self.endpoint):
            raise ConfigError(f"endpoint {self.endpoint!r} is not an http(s) base URL")
        if not 0 < len(self.name) <= 200:
            raise ConfigError("card name must be 1-200 characters")
        for what, key in (
            ("signing key", self.signing_key),
            ("encryption key", self.encryption_key),
            ("audit key", self.audit_key),
        ):
            if len(key) != crypto.KEY_BYTES:
                raise ConfigError(f"card {what} must be {crypto.KEY_BYTES} bytes")
        try:
            crypto.seal_to(self.encryption_key, b"\0" * crypto.KEY_BYTES)
        except crypto.CryptoFailure as exc:
            raise ConfigError("card encryption key is a low-order point; refusing it") from exc
        if self.signing_key == self.audit_key:
            raise ConfigError("card signing and audit keys must differ")
        if self.valid_until_ms <= self.valid_from_ms:
            raise ConfigError("card validity ends before it starts")

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.node_id, self.signing_key, self.encryption_key, self.audit_key)

    def to_pb(self) -> card_pb2.NodeCard:
        return card_pb2.NodeCard(
            node_id=self.node_id,
            country=self.country,
            name=self.name,
            endpoint=self.endpoint,
            signing_key=self.signing_key,
            encryption_key=self.encryption_key,
            audit_key=self.audit_key,
            valid_from_ms=self.valid_from_ms,
            valid_until_ms=self.valid_until_ms,
        )


def sign_card(card: NodeCard, signing: keys.SigningKeyPair) -> bytes:
    """Serialize and sign `card`; returns a SignedCard."""
    if signing.public_key != card.signing_key:
        raise ConfigError("a card must be signed by its own signing key")
    body = card.to_pb().SerializeToString()
    return card_pb2.SignedCard(
        card=body, signature=signing.sign(CARD_LABEL, body)
    ).SerializeToString()


def open_card(data: bytes, *, source: str = "card") -> NodeCard:
    """Verify a SignedCard's self-signature and return the card; ConfigError if anything is off."""
    if len(data) > MAX_CARD_BYTES:
        raise ConfigError(f"{source}: a card is at most {MAX_CARD_BYTES} bytes")
    signed = decode(card_pb2.SignedCard, data, ConfigError, f"{source}")
    pb = decode(card_pb2.NodeCard, signed.card, ConfigError, f"{source}: card body")
    try:
        crypto.ed25519_verify(pb.signing_key, CARD_LABEL + signed.card, signed.signature)
    except crypto.CryptoFailure as exc:
        raise ConfigError(f"{source}: the card's signature does not verify") from exc
    try:
        return NodeCard(
            node_id=pb.node_id,
            country=pb.country,
            name=pb.name,
            endpoint=pb.endpoint,
            signing_key=pb.signing_key,
            encryption_key=pb.encryption_key,
            audit_key=pb.audit_key,
            valid_from_ms=pb.valid_from_ms,
            valid_until_ms=pb.valid_until_ms,
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
