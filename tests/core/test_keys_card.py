"""gateway.core.keys (key ids, fingerprints, key pairs) and gateway.core.card (signed cards)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway._pb.gateway.v1 import card_pb2
from gateway.core import crypto
from gateway.core.card import CARD_LABEL, MAX_CARD_BYTES, NodeCard, open_card, sign_card
from gateway.core.keys import (
    EncryptionKeyPair,
    NodeKeys,
    SigningKeyPair,
    fingerprint,
    fingerprints_match,
    key_id,
)
from gateway.errors import ConfigError
from gateway.store.keyfiles import KeyMaterial

PROPERTY = settings(max_examples=100, deadline=None)
NOW = 1_700_000_000_000
YEAR = 365 * 24 * 3_600_000

# Distinctive private halves, so that a leak of them into a repr is easy to spot.
SIGNING_SEED = bytes(range(32))
ENCRYPTION_PRIVATE = bytes(range(32, 64))
AUDIT_SEED = bytes(range(64, 96))
STORAGE_KEY = bytes(range(96, 128))

KEYS = NodeKeys(
    signing=SigningKeyPair(seed=SIGNING_SEED),
    encryption=EncryptionKeyPair(private_key=ENCRYPTION_PRIVATE),
    audit=SigningKeyPair(seed=AUDIT_SEED),
)
OTHER = NodeKeys.generate()
FP_RE = re.compile(r"^[0-9A-F]{4}( [0-9A-F]{4}){7}$")
# Operators compare fingerprints across versions and machines: this one must never change.
PINNED_FINGERPRINT = "A5E1 FCAF 4F0C 87FE 3624 CB3A B224 F9FD"


def _fp(node_id: str = "gw-fr", k: NodeKeys = KEYS) -> str:
    return fingerprint(node_id, k.signing.public_key, k.encryption.public_key, k.audit.public_key)


# --- Key ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "public_key",
    [KEYS.signing.public_key, KEYS.encryption.public_key, bytes(32), b"\xff" * 32],
)
def test_key_id_is_the_first_8_bytes_of_blake2b_256(public_key: bytes) -> None:
    expected = hashlib.blake2b(public_key, digest_size=32).digest()[:8]
    assert key_id(public_key) == expected
    assert len(key_id(public_key)) == 8
    # BLAKE2b's digest size is a parameter of the hash: a 64-bit BLAKE2b is another function.
    assert key_id(public_key) != hashlib.blake2b(public_key, digest_size=8).digest()


def test_key_pairs_give_the_key_id_of_their_public_key() -> None:
    assert KEYS.signing.key_id == key_id(KEYS.signing.public_key)
    assert KEYS.encryption.key_id == key_id(KEYS.encryption.public_key)
    assert len({KEYS.signing.key_id, KEYS.encryption.key_id, KEYS.audit.key_id}) == 3


# --- Key pairs -----------------------------------------------------------------------------


def test_key_pairs_are_deterministic_from_their_private_half() -> None:
    assert SigningKeyPair(seed=SIGNING_SEED).public_key == KEYS.signing.public_key
    assert KEYS.signing.public_key == crypto.ed25519_public_key(SIGNING_SEED)
    assert KEYS.encryption.public_key == crypto.x25519_public_key(ENCRYPTION_PRIVATE)
    assert SigningKeyPair.generate().seed != SigningKeyPair.generate().seed


def test_sign_covers_the_label() -> None:
    signature = KEYS.signing.sign(b"label-a\0", b"message")
    crypto.ed25519_verify(KEYS.signing.public_key, b"label-a\0message", signature)
    with pytest.raises(crypto.CryptoFailure):
        crypto.ed25519_verify(KEYS.signing.public_key, b"label-b\0message", signature)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_key_pairs_refuse_private_halves_of_the_wrong_size(size: int) -> None:
    with pytest.raises(ConfigError):
        SigningKeyPair(seed=bytes(size))
    with pytest.raises(ConfigError):
        EncryptionKeyPair(private_key=bytes(size))


def test_node_keys_refuse_one_key_for_signing_and_audit() -> None:
    with pytest.raises(ConfigError, match="different"):
        NodeKeys(signing=KEYS.signing, encryption=KEYS.encryption, audit=KEYS.signing)


def _leaks(text: str, secret: bytes) -> bool:
    escaped = repr(secret)[2:-1]  # how bytes show inside a repr: b'...'
    return any(
        s in text for s in (secret.hex(), secret.hex().upper(), escaped, secret.decode("latin-1"))
    )


@pytest.mark.parametrize(
    ("obj", "secrets"),
    [
        (KEYS.signing, [SIGNING_SEED]),
        (KEYS.encryption, [ENCRYPTION_PRIVATE]),
        (KEYS, [SIGNING_SEED, ENCRYPTION_PRIVATE, AUDIT_SEED]),
        (
            KeyMaterial(KEYS, STORAGE_KEY),
            [SIGNING_SEED, ENCRYPTION_PRIVATE, AUDIT_SEED, STORAGE_KEY],
        ),
    ],
    ids=["signing", "encryption", "node-keys", "key-material"],
)
def test_reprs_never_show_private_keys(obj: object, secrets: list[bytes]) -> None:
    for text in (repr(obj), str(obj), f"{obj}", f"{obj!r}"):
        for secret in secrets:
            assert not _leaks(text, secret), text


def test_the_leak_check_would_catch_a_leak() -> None:
    assert _leaks(repr(SIGNING_SEED), SIGNING_SEED)
    assert _leaks(f"key={SIGNING_SEED.hex()}", SIGNING_SEED)


def test_key_material_repr_shows_nothing_of_the_keys() -> None:
    material = KeyMaterial(KEYS, STORAGE_KEY)
    assert repr(material) == "KeyMaterial(<redacted>)"
    assert KEYS.signing.public_key.hex() not in repr(material)


# --- Fingerprints ---------------------------------------------------------------------------


def test_fingerprint_is_8_groups_of_4_hex_digits_and_stable() -> None:
    fp = _fp()
    assert FP_RE.match(fp), fp
    assert fp == _fp()
    assert fp == PINNED_FINGERPRINT


def test_fingerprint_construction() -> None:
    node = b"gw-fr"
    digest = hashlib.blake2b(
        b"gw-fingerprint-v1"
        + len(node).to_bytes(2, "big")
        + node
        + KEYS.signing.public_key
        + KEYS.encryption.public_key
        + KEYS.audit.public_key,
        digest_size=32,
    ).digest()
    assert _fp().replace(" ", "") == digest[:16].hex().upper()


def test_fingerprint_changes_with_every_input() -> None:
    other_signing = dataclasses.replace(KEYS, signing=OTHER.signing)
    other_encryption = dataclasses.replace(KEYS, encryption=OTHER.encryption)
    other_audit = dataclasses.replace(KEYS, audit=OTHER.audit)
    swapped = NodeKeys(signing=KEYS.audit, encryption=KEYS.encryption, audit=KEYS.signing)
    prints = [
        _fp(),
        _fp("gw-de"),
        _fp("gw-f"),
        _fp(k=other_signing),
        _fp(k=other_encryption),
        _fp(k=other_audit),
        _fp(k=swapped),
    ]
    assert len(set(prints)) == len(prints)


def test_fingerprints_match_ignores_case_spaces_and_dashes() -> None:
    fp = _fp()
    assert fingerprints_match(fp, fp)
    assert fingerprints_match(fp, fp.lower())
    assert fingerprints_match(fp.replace(" ", ""), fp)
    assert fingerprints_match(fp.replace(" ", "-").lower(), fp)
    assert fingerprints_match(f"  {fp}  ", fp)


def test_fingerprints_match_rejects_another_fingerprint() -> None:
    fp = _fp()
    assert not fingerprints_match(_fp("gw-de"), fp)
    assert not fingerprints_match(_fp(k=OTHER), fp)
    assert not fingerprints_match(fp[:-1], fp)  # one digit short
    assert not fingerprints_match(fp + "0", fp)
    assert not fingerprints_match("", fp)
    last = "0" if fp[-1] != "0" else "1"
    assert not fingerprints_match(fp[:-1] + last, fp)  # one digit off


@PROPERTY
@given(
    lower=st.integers(0, 2**32 - 1),
    separators=st.lists(st.tuples(st.integers(0, 32), st.sampled_from(" -")), max_size=12),
    index=st.integers(0, 31),
    delta=st.integers(1, 15),
)
def test_fingerprints_match_however_people_type_them(
    lower: int, separators: list[tuple[int, str]], index: int, delta: int
) -> None:
    fp = _fp()
    digits = fp.replace(" ", "")
    typed = [c.lower() if lower >> i & 1 else c for i, c in enumerate(digits)]
    for position, separator in sorted(separators, reverse=True):
        typed.insert(position, separator)
    assert fingerprints_match("".join(typed), fp)
    assert fingerprints_match(fp, "".join(typed))
    wrong = list(digits)
    wrong[index] = f"{(int(wrong[index], 16) + delta) % 16:X}"
    assert not fingerprints_match("".join(wrong), fp)


# --- Cards -----------------------------------------------------------------------------------


def _card(k: NodeKeys = KEYS, **overrides: Any) -> NodeCard:
    fields: dict[str, Any] = {
        "node_id": "gw-fr",
        "country": "FR",
        "name": "France, national focal point",
        "endpoint": "https://gw.example.fr",
        "signing_key": k.signing.public_key,
        "encryption_key": k.encryption.public_key,
        "audit_key": k.audit.public_key,
        "valid_from_ms": NOW,
        "valid_until_ms": NOW + YEAR,
    }
    fields.update(overrides)
    return NodeCard(**fields)


def _sign_body(body: card_pb2.NodeCard, signing: SigningKeyPair = KEYS.signing) -> bytes:
    """A SignedCard over any body, validly self-signed: what a careless or hostile peer sends."""
    data = body.SerializeToString()
    return card_pb2.SignedCard(
        card=data, signature=signing.sign(CARD_LABEL, data)
    ).SerializeToString()


def test_card_round_trip() -> None:
    card = _card()
    assert open_card(sign_card(card, KEYS.signing)) == card
    assert card.fingerprint == _fp()


@pytest.mark.parametrize(
    "endpoint",
    ["https://gw.example.fr", "http://127.0.0.1:8443", "https://[::1]:8443/gw/v1", "https://a.b/"],
)
def test_card_round_trip_with_other_endpoints(endpoint: str) -> None:
    card = _card(endpoint=endpoint, name="x" * 200)
    assert open_card(sign_card(card, KEYS.signing)) == card


def test_a_card_can_only_be_signed_by_its_own_signing_key() -> None:
    with pytest.raises(ConfigError, match="own signing key"):
        sign_card(_card(), OTHER.signing)


def test_a_card_signed_by_another_key_is_refused() -> None:
    data = _sign_body(_card().to_pb(), OTHER.signing)
    with pytest.raises(ConfigError, match="does not verify"):
        open_card(data)


def test_a_card_signed_without_the_card_label_is_refused() -> None:
    body = _card().to_pb().SerializeToString()
    data = card_pb2.SignedCard(card=body, signature=KEYS.signing.sign(b"", body))
    with pytest.raises(ConfigError, match="does not verify"):
        open_card(data.SerializeToString())


def test_a_tampered_card_is_refused() -> None:
    signed = card_pb2.SignedCard.FromString(sign_card(_card(), KEYS.signing))
    body = card_pb2.NodeCard.FromString(signed.card)
    body.endpoint = "https://evil.example"
    signed.card = body.SerializeToString()
    with pytest.raises(ConfigError, match=r"peer\.card: the card's signature does not verify"):
        open_card(signed.SerializeToString(), source="peer.card")


SIGNED = sign_card(_card(), KEYS.signing)


@PROPERTY
@given(index=st.integers(0, len(SIGNED) - 1), mask=st.integers(1, 255))
def test_any_single_byte_change_to_a_card_is_refused(index: int, mask: int) -> None:
    tampered = bytearray(SIGNED)
    tampered[index] ^= mask
    with pytest.raises(ConfigError):
        open_card(bytes(tampered))


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"", b"\x0a\x05abc"])
def test_a_card_that_is_not_a_card_is_refused(data: bytes) -> None:
    with pytest.raises(ConfigError):
        open_card(data, source="fr.card")


def test_an_oversized_card_is_refused_before_parsing() -> None:
    with pytest.raises(ConfigError, match=rf"fr\.card: a card is at most {MAX_CARD_BYTES} bytes"):
        open_card(b"\xff" * (MAX_CARD_BYTES + 1), source="fr.card")
    signed = card_pb2.SignedCard.FromString(SIGNED)
    signed.signature += b"\0" * MAX_CARD_BYTES  # otherwise valid protobuf, just too long
    with pytest.raises(ConfigError, match="at most"):
        open_card(signed.SerializeToString())


@pytest.mark.parametrize(
    "node_id", ["", "g", "GW-FR", "-gw", "gw_fr", "gw fr", "gw.fr", "gw-fr\n", "g" * 64, "gw-é"]
)
def test_a_bad_node_id_is_refused(node_id: str) -> None:
    with pytest.raises(ConfigError, match="node id"):
        _card(node_id=node_id)
    body = _card().to_pb()
    body.node_id = node_id
    with pytest.raises(ConfigError, match="node id"):
        open_card(_sign_body(body), source="x.card")


def test_node_ids_at_the_length_limits_are_accepted() -> None:
    assert _card(node_id="g1").node_id == "g1"
    assert _card(node_id="g" * 63).node_id == "g" * 63


@pytest.mark.parametrize("country", ["", "fr", "FRA", "F", "F1", "FR\n", "ÉS"])
def test_a_bad_country_is_refused(country: str) -> None:
    with pytest.raises(ConfigError, match="country"):
        _card(country=country)
    body = _card().to_pb()
    body.country = country
    with pytest.raises(ConfigError, match="country"):
        open_card(_sign_body(body))


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "gw.example.fr",
        "ftp://gw.example.fr",
        "javascript:alert(1)",
        "https://",
        "https://user@gw.example.fr",
        "https://gw.example.fr?x=1",
        "https://gw.example.fr#frag",
        "https://gw.example.fr/ path",
        "https://gw.example.fr\n",
    ],
)
def test_a_bad_endpoint_is_refused(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        _card(endpoint=endpoint)
    body = _card().to_pb()
    body.endpoint = endpoint
    with pytest.raises(ConfigError, match="endpoint"):
        open_card(_sign_body(body))


def test_a_low_order_encryption_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="low-order"):
        _card(encryption_key=bytes(32))
    body = _card().to_pb()
    body.encryption_key = bytes(32)
    with pytest.raises(ConfigError, match="low-order"):
        open_card(_sign_body(body))


@pytest.mark.parametrize("field", ["signing_key", "encryption_key", "audit_key"])
@pytest.mark.parametrize("size", [0, 31, 33])
def test_keys_of_the_wrong_size_are_refused(field: str, size: int) -> None:
    with pytest.raises(ConfigError):
        _card(KEYS, **{field: bytes(range(size))})


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "x" * 201},
        {"audit_key": KEYS.signing.public_key},
        {"valid_until_ms": NOW},
        {"valid_until_ms": NOW - 1},
    ],
    ids=["empty-name", "long-name", "audit-is-signing", "zero-validity", "negative-validity"],
)
def test_other_bad_card_fields_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        _card(**overrides)
