"""gateway.core.envelope: seal/open round trips and every rejection of DESIGN.md section 5.

Rejections are exercised in the order open_envelope checks them. The ones that lie behind the
signature (Malformed header, wrong stanza count, BadStanza, BadCommitment, BadCiphertext) are
reached by a *malicious sender*: a known peer that signs validly but builds the rest by hand,
with envelope_pb2, the crypto helpers and envelope.signing_message, as an attacker would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway._pb.gateway.v1 import envelope_pb2
from gateway.core import crypto, keys
from gateway.core.directory import Directory, PeerKey, PeerRecord
from gateway.core.envelope import (
    ENVELOPE_LABEL,
    MAX_CLOCK_SKEW_MS,
    MAX_ENVELOPE_BYTES,
    EnvelopeHeader,
    OpenedEnvelope,
    Recipient,
    RecipientKey,
    SealedEnvelope,
    key_commitment,
    open_envelope,
    seal,
    signing_message,
)
from gateway.errors import (
    BadCiphertext,
    BadCommitment,
    BadSignature,
    BadStanza,
    ConfigError,
    Expired,
    FieldsNotAllowed,
    FromFuture,
    Malformed,
    MalformedPayload,
    NotForUs,
    Oversized,
    PeerError,
    RevokedKey,
    UnknownSender,
    UnknownSop,
    UnsupportedSuite,
)

NOW = 1_700_000_000_000
HOUR = 3_600_000
PAYLOAD = b"\x0a\x05hello a serialized notice would go here"
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclasses.dataclass(frozen=True)
class Node:
    node_id: str
    node_keys: keys.NodeKeys

    @property
    def signing(self) -> keys.SigningKeyPair:
        return self.node_keys.signing

    @property
    def encryption(self) -> keys.EncryptionKeyPair:
        return self.node_keys.encryption

    @property
    def recipient(self) -> RecipientKey:
        return RecipientKey(node_id=self.node_id, encryption_key=self.encryption.public_key)


def _node(node_id: str, n: int) -> Node:
    # Deterministic, distinct keys per node so that failures reproduce.
    return Node(
        node_id,
        keys.NodeKeys(
            signing=keys.SigningKeyPair(seed=bytes([n, 1]) * 16),
            encryption=keys.EncryptionKeyPair(private_key=bytes([n, 2]) * 16),
            audit=keys.SigningKeyPair(seed=bytes([n, 3]) * 16),
        ),
    )


ALICE = _node("gw-a", 1)  # the sender in every test
BOB = _node("gw-b", 2)
CAROL = _node("gw-c", 3)
MALLORY = _node("gw-m", 4)  # known to nobody
OTHERS = tuple(_node(f"gw-r{i}", 10 + i) for i in range(8))


def _record(
    node: Node,
    *,
    revoked: bool = False,
    signing_revoked: bool = False,
    extra: Sequence[PeerKey] = (),
) -> PeerRecord:
    k = node.node_keys

    def pk(purpose: str, public_key: bytes, revoked: bool = False) -> PeerKey:
        return PeerKey(
            key_id=keys.key_id(public_key),
            node_id=node.node_id,
            purpose=purpose,
            public_key=public_key,
            revoked=revoked,
        )

    return PeerRecord(
        node_id=node.node_id,
        country="FR",
        name=node.node_id,
        endpoint=f"https://{node.node_id}.example",
        fingerprint=keys.fingerprint(
            node.node_id, k.signing.public_key, k.encryption.public_key, k.audit.public_key
        ),
        revoked=revoked,
        keys=(
            *extra,
            pk("signing", k.signing.public_key, signing_revoked),
            pk("encryption", k.encryption.public_key),
            pk("audit", k.audit.public_key),
        ),
    )


DIRECTORY = Directory.of([_record(n) for n in (ALICE, BOB, CAROL, *OTHERS)])


def _seal(
    recipients: Sequence[Node | RecipientKey] = (BOB,),
    *,
    payload: bytes = PAYLOAD,
    created_at_ms: int = NOW,
    expires_at_ms: int = NOW + HOUR,
    sender: Node = ALICE,
) -> SealedEnvelope:
    return seal(
        payload=payload,
        notice_id="n-1",
        kind="victim_identification",
        sop_id="sop-a",
        sop_version=1,
        tlp="amber",
        handling_code="h2",
        created_at_ms=created_at_ms,
        expires_at_ms=expires_at_ms,
        sender_node_id=sender.node_id,
        signing=sender.signing,
        recipients=[r.recipient if isinstance(r, Node) else r for r in recipients],
    )


def _accept_header(header: EnvelopeHeader) -> None:
    pass


def _return_payload(header: EnvelopeHeader, payload: bytes) -> bytes:
    return payload


def _open(
    data: bytes,
    node: Node = BOB,
    *,
    encryption: keys.EncryptionKeyPair | None = None,
    directory: Directory = DIRECTORY,
    now_ms: int = NOW,
    check_header: Callable[[EnvelopeHeader], None] = _accept_header,
    check_payload: Callable[[EnvelopeHeader, bytes], Any] = _return_payload,
    **kwargs: Any,
) -> OpenedEnvelope[Any]:
    return open_envelope(
        data,
        node_id=node.node_id,
        encryption=encryption or node.encryption,
        directory=directory,
        now_ms=now_ms,
        check_header=check_header,
        check_payload=check_payload,
        **kwargs,
    )


def _rejected(error: type[PeerError], code: str, data: bytes, **kwargs: Any) -> PeerError:
    """Open `data` (as BOB unless told) and assert it fails with exactly `error` and `code`."""
    with pytest.raises(PeerError) as info:
        _open(data, **kwargs)
    assert type(info.value) is error, f"expected {error.__name__}, got {info.value!r}"
    assert info.value.code == code
    return info.value


# --- A malicious but known sender, building envelopes by hand --------------------------------


def _header(
    recipients: Sequence[Node | RecipientKey] = (BOB,),
    *,
    content_key: bytes,
    sender: Node = ALICE,
    **overrides: Any,
) -> EnvelopeHeader:
    fields: dict[str, Any] = {
        "message_id": crypto.random_bytes(16),
        "notice_id": "n-evil",
        "sender_node_id": sender.node_id,
        "sender_key_id": sender.signing.key_id,
        "recipients": tuple(
            Recipient(node_id=r.node_id, encryption_key_id=r.key_id)
            for r in (x.recipient if isinstance(x, Node) else x for x in recipients)
        ),
        "kind": "modus_operandi",
        "sop_id": "sop-a",
        "sop_version": 1,
        "created_at_ms": NOW,
        "expires_at_ms": NOW + HOUR,
        "tlp": "red",
        "handling_code": "h0",
        "nonce": crypto.random_bytes(crypto.AEAD_NONCE_BYTES),
        "key_commitment": key_commitment(content_key),
    }
    fields.update(overrides)
    return EnvelopeHeader(**fields)


def _signed(
    header: bytes,
    stanzas: Sequence[bytes],
    ciphertext: bytes,
    *,
    signer: keys.SigningKeyPair = ALICE.signing,
    signer_key_id: bytes | None = None,
) -> bytes:
    """A SignedEnvelope with a valid signature by `signer` over exactly these parts."""
    return envelope_pb2.SignedEnvelope(
        header=header,
        stanzas=list(stanzas),
        ciphertext=ciphertext,
        signature=signer.sign(ENVELOPE_LABEL, signing_message(header, stanzas, ciphertext)),
        signer_key_id=signer.key_id if signer_key_id is None else signer_key_id,
    ).SerializeToString()


def _parts(data: bytes) -> envelope_pb2.SignedEnvelope:
    return envelope_pb2.SignedEnvelope.FromString(data)


def _malicious(
    recipients: Sequence[Node] = (BOB,),
    *,
    stanza_keys: Sequence[bytes] | None = None,
    committed_key: bytes | None = None,
    encryption_key: bytes | None = None,
    aad: bytes | None = None,
    stanzas: Sequence[bytes] | None = None,
    payload: bytes = PAYLOAD,
) -> bytes:
    """An envelope signed validly by ALICE whose inner parts may disagree with each other.

    By default it is honest. `stanza_keys` wraps a different content key per recipient,
    `committed_key` is what the header commits to, `encryption_key` and `aad` are what the
    ciphertext is made with, and `stanzas` replaces the stanzas outright.
    """
    ck = crypto.random_bytes(32)
    header = _header(recipients, content_key=committed_key or ck)
    header_bytes = header.to_bytes()
    if stanzas is None:
        wrapped = stanza_keys or [ck] * len(recipients)
        stanzas = [
            crypto.seal_to(r.encryption.public_key, k)
            for r, k in zip(recipients, wrapped, strict=True)
        ]
    ciphertext = crypto.aead_encrypt(
        encryption_key or ck,
        header.nonce,
        payload,
        header_bytes if aad is None else aad,
    )
    return _signed(header_bytes, stanzas, ciphertext)


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def test_signing_message_is_length_prefixed_parts() -> None:
    expected = _lp(b"h") + (2).to_bytes(8, "big") + _lp(b"s1") + _lp(b"s22") + _lp(b"ct")
    assert signing_message(b"h", [b"s1", b"s22"], b"ct") == expected
    assert signing_message(b"", [], b"") == bytes(8) * 3


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((b"", [b"s"], b"c"), (_lp(b"s"), [], b"c")),  # a stanza hidden in the header
        ((b"ab", [], b"c"), (b"a", [], b"bc")),  # a byte moved across a boundary
        ((b"h", [b"ab"], b"c"), (b"h", [b"a", b"b"], b"c")),  # one stanza split in two
        ((b"h", [b"", b""], b"c"), (b"h", [b""], b"c")),  # an empty stanza dropped
        ((b"h", [], _lp(b"c")), (b"h", [b"c"], b"")),
    ],
)
def test_signing_message_is_unambiguous(
    a: tuple[bytes, list[bytes], bytes], b: tuple[bytes, list[bytes], bytes]
) -> None:
    assert signing_message(*a) != signing_message(*b)


def test_the_honest_hand_built_envelope_opens() -> None:
    """Guards the helpers: every malicious envelope below differs from this in one way only."""
    assert _open(_malicious()).payload == PAYLOAD
    assert _open(_malicious((BOB, CAROL)), CAROL).payload == PAYLOAD


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_every_recipient_opens_the_same_payload(count: int) -> None:
    recipients = OTHERS[:count]
    sealed = _seal(recipients)
    assert sealed.message_id == sealed.header.message_id
    assert sealed.header.recipients == tuple(
        Recipient(node_id=r.node_id, encryption_key_id=r.encryption.key_id) for r in recipients
    )
    for node in recipients:
        opened = _open(sealed.data, node)
        assert opened.payload == PAYLOAD
        assert opened.notice == PAYLOAD
        assert opened.header == sealed.header
        assert opened.header_bytes == sealed.header_bytes


def test_the_header_says_what_was_sealed() -> None:
    sealed = _seal((BOB,), created_at_ms=NOW - 5, expires_at_ms=NOW + 7)
    header = _open(sealed.data).header
    assert (header.notice_id, header.kind, header.sop_id, header.sop_version) == (
        "n-1",
        "victim_identification",
        "sop-a",
        1,
    )
    assert (header.tlp, header.handling_code) == ("amber", "h2")
    assert (header.created_at_ms, header.expires_at_ms) == (NOW - 5, NOW + 7)
    assert header.sender_node_id == ALICE.node_id
    assert header.sender_key_id == ALICE.signing.key_id
    assert header.key_commitment != bytes(32)
    assert EnvelopeHeader.from_bytes(sealed.header_bytes) == sealed.header


def test_each_seal_draws_fresh_ids_keys_and_nonces() -> None:
    a, b = _seal(), _seal()
    assert a.message_id != b.message_id
    assert a.header.nonce != b.header.nonce
    assert a.header.key_commitment != b.header.key_commitment
    assert _parts(a.data).ciphertext != _parts(b.data).ciphertext


def test_stanzas_are_80_byte_sealed_boxes_in_recipient_order() -> None:
    parts = _parts(_seal((BOB, CAROL)).data)
    assert [len(s) for s in parts.stanzas] == [crypto.SEALED_KEY_BYTES] * 2
    assert crypto.SEALED_KEY_BYTES == 80
    ck = crypto.unseal(BOB.encryption.private_key, parts.stanzas[0])
    assert crypto.unseal(CAROL.encryption.private_key, parts.stanzas[1]) == ck
    with pytest.raises(crypto.CryptoFailure):
        crypto.unseal(BOB.encryption.private_key, parts.stanzas[1])


@PROPERTY
@given(
    payload=st.binary(max_size=2048),
    count=st.integers(1, len(OTHERS)),
    data=st.data(),
)
def test_round_trip_property(payload: bytes, count: int, data: st.DataObject) -> None:
    recipients = data.draw(st.permutations(OTHERS))[:count]
    sealed = _seal(recipients, payload=payload)
    reader = data.draw(st.sampled_from(recipients))
    assert _open(sealed.data, reader).payload == payload


def test_an_envelope_of_exactly_the_size_limit_is_accepted() -> None:
    # The overhead is constant once the ciphertext's length varint has its final width.
    overhead = len(_seal(payload=b"x" * 200_000).data) - 200_000
    size = MAX_ENVELOPE_BYTES - overhead
    sealed = _seal(payload=b"x" * size)
    assert len(sealed.data) == MAX_ENVELOPE_BYTES
    assert _open(sealed.data).payload == b"x" * size


def test_sealing_refuses_an_envelope_over_the_size_limit() -> None:
    # Every receiver would refuse it unread; the sender says so before queueing anything.
    with pytest.raises(ConfigError, match="limit"):
        _seal(payload=b"x" * MAX_ENVELOPE_BYTES)


def test_seal_refuses_no_recipients_and_low_order_keys() -> None:
    with pytest.raises(ConfigError):
        _seal(())
    with pytest.raises(ConfigError):
        _seal((RecipientKey(node_id="gw-b", encryption_key=bytes(32)),))


# --- Rejections, in the order open_envelope checks them -------------------------------------


def test_oversized() -> None:
    err = _rejected(Oversized, "oversized", b"\0" * (MAX_ENVELOPE_BYTES + 1))
    assert err.status == 413


def test_oversized_comes_before_everything_else() -> None:
    # Our sealer refuses to make one, so grow a real envelope past the limit by hand.
    outer = envelope_pb2.SignedEnvelope.FromString(_seal(payload=b"x" * 1000).data)
    outer.ciphertext += b"x" * MAX_ENVELOPE_BYTES
    data = outer.SerializeToString()
    assert len(data) > MAX_ENVELOPE_BYTES
    _rejected(Oversized, "oversized", data)


@pytest.mark.parametrize("data", [b"\xff" * 10, b"\x0a\xff", b"not a protobuf"])
def test_malformed_not_a_protobuf(data: bytes) -> None:
    _rejected(Malformed, "malformed", data)


def test_an_empty_envelope_names_no_signer() -> None:
    # Zero bytes parse as an empty SignedEnvelope: it names no signer.
    _rejected(UnknownSender, "unknown_sender", b"")


@pytest.mark.parametrize(
    "header",
    [b"\xff\xff\xff\xff", b"\x12\x80", b"\x08\x01", b"\x08\x01\xff\xff"],
    ids=["garbage", "truncated", "only-suite", "suite-then-garbage"],
)
def test_malformed_header_that_is_not_a_header(header: bytes) -> None:
    stanza = crypto.seal_to(BOB.encryption.public_key, bytes(32))
    _rejected(Malformed, "malformed", _signed(header, [stanza], b"ciphertext"))


def _tampered_header(path: str, value: object) -> envelope_pb2.Header:
    header = envelope_pb2.Header.FromString(_seal().header_bytes)
    *outer, name = path.split(".")
    target: Any = header
    for part in outer:
        target = getattr(target, part)
    setattr(target, name, value)
    return header


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("message_id", b""),
        ("message_id", bytes(17)),
        ("notice_id", ""),
        ("sender_node_id", ""),
        ("sender_key_id", bytes(7)),
        ("kind", 0),
        ("kind", 99),
        ("sop_id", ""),
        ("sop_version", 0),
        ("expires_at_ms", NOW),
        ("handling.tlp", 0),
        ("handling.handling_code", 42),
        ("nonce", b"short"),
        ("key_commitment", bytes(31)),
    ],
)
def test_malformed_header_field(path: str, value: object) -> None:
    header = _tampered_header(path, value).SerializeToString()
    _rejected(Malformed, "malformed", _signed(header, [crypto.random_bytes(80)], b"ct"))


@pytest.mark.parametrize("count", [0, 2, 65])
def test_malformed_header_recipient_list(count: int) -> None:
    # No recipients, the same recipient twice, or more than MAX_RECIPIENTS.
    header = envelope_pb2.Header.FromString(_seal().header_bytes)
    first = header.recipients[0]
    del header.recipients[:]
    for i in range(count):
        r = header.recipients.add()
        r.CopyFrom(first)
        if count > 2:
            r.node_id = f"gw-{i}"
    stanzas = [crypto.random_bytes(80)] * count
    _rejected(Malformed, "malformed", _signed(header.SerializeToString(), stanzas, b"ct"))


@pytest.mark.parametrize("suite", [0, 2])
def test_unsupported_suite(suite: int) -> None:
    header = _tampered_header("suite", suite).SerializeToString()
    data = _signed(header, [crypto.random_bytes(80)], b"ct")
    _rejected(UnsupportedSuite, "unsupported_suite", data)


@pytest.mark.parametrize("count", [0, 2])
def test_malformed_wrong_stanza_count(count: int) -> None:
    parts = _parts(_seal((BOB,)).data)
    stanzas = [parts.stanzas[0]] * count
    _rejected(Malformed, "malformed", _signed(parts.header, stanzas, parts.ciphertext))


def test_malformed_fewer_stanzas_than_recipients() -> None:
    parts = _parts(_seal((BOB, CAROL)).data)
    data = _signed(parts.header, parts.stanzas[:1], parts.ciphertext)
    _rejected(Malformed, "malformed", data)


def test_unknown_sender() -> None:
    data = _seal(sender=MALLORY).data
    err = _rejected(UnknownSender, "unknown_sender", data)
    assert err.status == 403
    _rejected(UnknownSender, "unknown_sender", _seal().data, directory=Directory.of([]))


def test_unknown_sender_for_a_key_id_that_is_not_a_signing_key() -> None:
    parts = _parts(_seal().data)
    for hint in (ALICE.encryption.key_id, ALICE.node_keys.audit.key_id, b"", bytes(8)):
        parts.signer_key_id = hint
        _rejected(UnknownSender, "unknown_sender", parts.SerializeToString())


def test_revoked_signing_key() -> None:
    directory = Directory.of([_record(ALICE, signing_revoked=True), _record(BOB)])
    err = _rejected(RevokedKey, "revoked_key", _seal().data, directory=directory)
    assert err.status == 403


def test_revoked_peer() -> None:
    directory = Directory.of([_record(ALICE, revoked=True), _record(BOB)])
    _rejected(RevokedKey, "revoked_key", _seal().data, directory=directory)


def test_after_rotation_the_old_revoked_key_is_refused_and_the_new_one_accepted() -> None:
    old = ALICE.signing
    rotated = Node(
        ALICE.node_id, dataclasses.replace(ALICE.node_keys, signing=_node("x", 99).signing)
    )
    revoked_old = PeerKey(
        key_id=old.key_id,
        node_id=ALICE.node_id,
        purpose="signing",
        public_key=old.public_key,
        revoked=True,
    )
    directory = Directory.of([_record(rotated, extra=[revoked_old]), _record(BOB)])
    _rejected(RevokedKey, "revoked_key", _seal(sender=ALICE).data, directory=directory)
    assert _open(_seal(sender=rotated).data, directory=directory).payload == PAYLOAD


def test_revoked_comes_before_the_signature() -> None:
    parts = _parts(_seal().data)
    parts.signature = bytes(64)
    directory = Directory.of([_record(ALICE, signing_revoked=True), _record(BOB)])
    _rejected(RevokedKey, "revoked_key", parts.SerializeToString(), directory=directory)


@pytest.mark.parametrize("field", ["header", "stanza", "ciphertext", "signature"])
@pytest.mark.parametrize("where", [0, -1])
def test_bad_signature_when_a_signed_byte_is_tampered(field: str, where: int) -> None:
    parts = _parts(_seal((BOB, CAROL)).data)

    def flip(value: bytes) -> bytes:
        b = bytearray(value)
        b[where] ^= 0x01
        return bytes(b)

    if field == "header":
        parts.header = flip(parts.header)
    elif field == "stanza":
        parts.stanzas[1] = flip(parts.stanzas[1])
    elif field == "ciphertext":
        parts.ciphertext = flip(parts.ciphertext)
    else:
        parts.signature = flip(parts.signature)
    err = _rejected(BadSignature, "bad_signature", parts.SerializeToString())
    assert err.status == 403


def _reorder_stanzas(p: envelope_pb2.SignedEnvelope) -> None:
    p.stanzas.reverse()


def _duplicate_a_stanza(p: envelope_pb2.SignedEnvelope) -> None:
    p.stanzas.append(p.stanzas[0])


def _drop_the_signature(p: envelope_pb2.SignedEnvelope) -> None:
    p.ClearField("signature")


def _truncate_the_signature(p: envelope_pb2.SignedEnvelope) -> None:
    p.signature = p.signature[:-1]


def _extend_the_ciphertext(p: envelope_pb2.SignedEnvelope) -> None:
    p.ciphertext += b"\0"


def _move_a_byte_across_parts(p: envelope_pb2.SignedEnvelope) -> None:
    # The length prefixes of the signed message keep the boundaries of its parts.
    p.header, p.ciphertext = p.header + p.ciphertext[:1], p.ciphertext[1:]


def _join_two_stanzas(p: envelope_pb2.SignedEnvelope) -> None:
    joined = p.stanzas[0] + p.stanzas[1]
    del p.stanzas[:]
    p.stanzas.append(joined)


@pytest.mark.parametrize(
    "change",
    [
        _reorder_stanzas,
        _duplicate_a_stanza,
        _drop_the_signature,
        _truncate_the_signature,
        _extend_the_ciphertext,
        _move_a_byte_across_parts,
        _join_two_stanzas,
    ],
)
def test_bad_signature_when_parts_are_changed(
    change: Callable[[envelope_pb2.SignedEnvelope], None],
) -> None:
    parts = _parts(_seal((BOB, CAROL)).data)
    change(parts)
    _rejected(BadSignature, "bad_signature", parts.SerializeToString())


def test_bad_signature_by_another_known_peer() -> None:
    # CAROL signs ALICE's envelope and leaves ALICE's key id as the hint.
    parts = _parts(_seal().data)
    data = _signed(
        parts.header,
        parts.stanzas,
        parts.ciphertext,
        signer=CAROL.signing,
        signer_key_id=ALICE.signing.key_id,
    )
    _rejected(BadSignature, "bad_signature", data)


def test_bad_signature_without_the_envelope_label() -> None:
    parts = _parts(_seal().data)
    message = signing_message(parts.header, parts.stanzas, parts.ciphertext)
    parts.signature = ALICE.signing.sign(b"", message)
    _rejected(BadSignature, "bad_signature", parts.SerializeToString())


def test_bad_signature_when_the_header_names_another_sender_node() -> None:
    # CAROL, a known peer, signs validly a header that claims the envelope is from ALICE.
    ck = crypto.random_bytes(32)
    header = _header(
        content_key=ck, sender_node_id=ALICE.node_id, sender_key_id=ALICE.signing.key_id
    )
    stanzas = [crypto.seal_to(BOB.encryption.public_key, ck)]
    ciphertext = crypto.aead_encrypt(ck, header.nonce, PAYLOAD, header.to_bytes())
    data = _signed(header.to_bytes(), stanzas, ciphertext, signer=CAROL.signing)
    _rejected(BadSignature, "bad_signature", data)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sender_node_id": "gw-c"},
        {"sender_key_id": CAROL.signing.key_id},
        {"sender_key_id": ALICE.encryption.key_id},
    ],
)
def test_bad_signature_when_the_header_sender_differs_from_the_signer(
    overrides: dict[str, Any],
) -> None:
    ck = crypto.random_bytes(32)
    header = _header(content_key=ck, **overrides)
    stanzas = [crypto.seal_to(BOB.encryption.public_key, ck)]
    ciphertext = crypto.aead_encrypt(ck, header.nonce, PAYLOAD, header.to_bytes())
    data = _signed(header.to_bytes(), stanzas, ciphertext, signer=ALICE.signing)
    _rejected(BadSignature, "bad_signature", data)


def test_not_for_us_when_addressed_to_another_node() -> None:
    data = _seal((CAROL,)).data
    err = _rejected(NotForUs, "not_for_us", data)
    assert err.status == 421
    assert _open(data, CAROL).payload == PAYLOAD


def test_not_for_us_when_sealed_to_our_old_encryption_key() -> None:
    old = BOB.encryption
    new = keys.EncryptionKeyPair(private_key=bytes([2, 99]) * 16)
    data = _seal((BOB,)).data
    _rejected(NotForUs, "not_for_us", data, encryption=new)
    assert _open(data, encryption=old).payload == PAYLOAD


def test_not_for_us_when_our_key_is_listed_under_another_node_id() -> None:
    data = _seal((RecipientKey(node_id="gw-c", encryption_key=BOB.encryption.public_key),)).data
    _rejected(NotForUs, "not_for_us", data)


def test_from_future_beyond_the_clock_skew() -> None:
    data = _seal(created_at_ms=NOW + MAX_CLOCK_SKEW_MS + 1, expires_at_ms=NOW + HOUR).data
    _rejected(FromFuture, "from_future", data)


def test_accepted_from_the_future_within_the_clock_skew() -> None:
    data = _seal(created_at_ms=NOW + MAX_CLOCK_SKEW_MS, expires_at_ms=NOW + HOUR).data
    assert _open(data).payload == PAYLOAD


def test_the_clock_skew_can_be_narrowed() -> None:
    data = _seal(created_at_ms=NOW + 1001).data
    _rejected(FromFuture, "from_future", data, max_skew_ms=1000)
    assert _open(data, max_skew_ms=1001).payload == PAYLOAD


def test_expired() -> None:
    data = _seal(created_at_ms=NOW - HOUR, expires_at_ms=NOW).data
    err = _rejected(Expired, "expired", data)
    assert err.status == 410
    assert _open(data, now_ms=NOW - 1).payload == PAYLOAD


def test_rejections_come_in_order() -> None:
    stale = _seal((CAROL,), created_at_ms=NOW - 2 * HOUR, expires_at_ms=NOW - HOUR).data
    _rejected(NotForUs, "not_for_us", stale)  # addressed check before the time window

    parts = _parts(stale)
    parts.ciphertext += b"\0"
    _rejected(BadSignature, "bad_signature", parts.SerializeToString())  # signature first

    calls: list[str] = []
    expired = _seal(created_at_ms=NOW - 2 * HOUR, expires_at_ms=NOW - HOUR).data
    _rejected(Expired, "expired", expired, check_header=lambda h: calls.append("header"))
    assert calls == []  # the time window before the SOP policy


# --- Policy callbacks --------------------------------------------------------------------------


class PolicySaysNo(Exception):
    pass


def test_callbacks_are_called_once_each_in_order_and_the_notice_is_returned() -> None:
    sealed = _seal()
    calls: list[tuple[str, object]] = []

    def check_header(header: EnvelopeHeader) -> None:
        calls.append(("header", header))

    def check_payload(header: EnvelopeHeader, payload: bytes) -> str:
        calls.append(("payload", (header, payload)))
        return "the parsed notice"

    opened = _open(sealed.data, check_header=check_header, check_payload=check_payload)
    assert calls == [("header", sealed.header), ("payload", (sealed.header, PAYLOAD))]
    assert opened.notice == "the parsed notice"


@pytest.mark.parametrize("error", [UnknownSop("no such SOP"), PolicySaysNo()])
def test_check_header_runs_before_unsealing_and_its_exception_propagates(
    error: Exception,
) -> None:
    # Our stanza would not open (BadStanza), yet the policy's verdict is what comes out.
    data = _malicious(stanzas=[crypto.random_bytes(80)])
    payload_calls: list[bytes] = []

    def check_header(header: EnvelopeHeader) -> None:
        raise error

    def check_payload(header: EnvelopeHeader, payload: bytes) -> None:
        payload_calls.append(payload)

    with pytest.raises(type(error)) as info:
        _open(data, check_header=check_header, check_payload=check_payload)
    assert info.value is error
    assert payload_calls == []


@pytest.mark.parametrize(
    "error", [MalformedPayload("bad"), FieldsNotAllowed("victim"), PolicySaysNo()]
)
def test_check_payload_runs_last_and_its_exception_propagates(error: Exception) -> None:
    def check_payload(header: EnvelopeHeader, payload: bytes) -> None:
        assert payload == PAYLOAD
        raise error

    with pytest.raises(type(error)) as info:
        _open(_seal().data, check_payload=check_payload)
    assert info.value is error


def test_check_payload_is_not_called_when_decryption_fails() -> None:
    calls: list[str] = []
    data = _malicious(aad=b"not the header")
    _rejected(
        BadCiphertext,
        "bad_ciphertext",
        data,
        check_header=lambda h: calls.append("header"),
        check_payload=lambda h, p: calls.append("payload"),
    )
    assert calls == ["header"]


# --- A malicious sender who signs validly ------------------------------------------------------


def test_bad_commitment_when_recipients_get_different_content_keys() -> None:
    """The invisible-salamanders defence: one signature, one key per recipient, refused.

    BOB's stanza wraps the committed key; CAROL's wraps another. Without the commitment a
    sender could show each recipient a different plaintext under one signed envelope.
    """
    ck, other = crypto.random_bytes(32), crypto.random_bytes(32)
    data = _malicious((BOB, CAROL), stanza_keys=[ck, other], committed_key=ck, encryption_key=ck)
    assert _open(data, BOB).payload == PAYLOAD
    _rejected(BadCommitment, "bad_commitment", data, node=CAROL)


def test_bad_commitment_when_the_header_commits_to_another_key() -> None:
    ck = crypto.random_bytes(32)
    data = _malicious(stanza_keys=[ck], committed_key=crypto.random_bytes(32), encryption_key=ck)
    _rejected(BadCommitment, "bad_commitment", data)


def test_bad_commitment_when_the_commitment_is_not_keyed() -> None:
    # An unkeyed hash of the label is the same for every key: it must not pass as a commitment.
    ck = crypto.random_bytes(32)
    header = _header(content_key=ck, key_commitment=crypto.blake2b_256(b"gw-key-commitment-v1"))
    stanzas = [crypto.seal_to(BOB.encryption.public_key, ck)]
    ciphertext = crypto.aead_encrypt(ck, header.nonce, PAYLOAD, header.to_bytes())
    _rejected(BadCommitment, "bad_commitment", _signed(header.to_bytes(), stanzas, ciphertext))


def test_commitment_is_keyed_blake2b_of_the_label() -> None:
    ck = bytes(range(32))
    assert key_commitment(ck) == crypto.blake2b_256(b"gw-key-commitment-v1", key=ck)
    assert key_commitment(ck) != key_commitment(bytes(32))


@pytest.mark.parametrize(
    "stanza",
    [
        crypto.seal_to(BOB.encryption.public_key, bytes(33)),  # 81 bytes
        crypto.seal_to(BOB.encryption.public_key, bytes(31)),  # 79 bytes
        b"",
        bytes(160),
    ],
    ids=["81", "79", "empty", "160"],
)
def test_bad_stanza_of_the_wrong_length(stanza: bytes) -> None:
    assert len(stanza) != crypto.SEALED_KEY_BYTES
    _rejected(BadStanza, "bad_stanza", _malicious(stanzas=[stanza]))


@pytest.mark.parametrize(
    "make",
    [
        lambda ck: crypto.seal_to(CAROL.encryption.public_key, ck),
        lambda ck: crypto.random_bytes(80),
        lambda ck: bytes(80),
    ],
    ids=["sealed-to-another-key", "random", "zeros"],
)
def test_bad_stanza_that_does_not_open(make: Callable[[bytes], bytes]) -> None:
    stanza = make(crypto.random_bytes(32))
    assert len(stanza) == crypto.SEALED_KEY_BYTES
    _rejected(BadStanza, "bad_stanza", _malicious(stanzas=[stanza]))


def test_bad_stanza_only_for_the_recipient_whose_stanza_is_bad() -> None:
    ck = crypto.random_bytes(32)
    header = _header((BOB, CAROL), content_key=ck)
    stanzas = [
        crypto.seal_to(BOB.encryption.public_key, ck),
        crypto.seal_to(BOB.encryption.public_key, ck),  # CAROL's slot, sealed to BOB
    ]
    ciphertext = crypto.aead_encrypt(ck, header.nonce, PAYLOAD, header.to_bytes())
    data = _signed(header.to_bytes(), stanzas, ciphertext)
    assert _open(data, BOB).payload == PAYLOAD
    _rejected(BadStanza, "bad_stanza", data, node=CAROL)


def test_bad_ciphertext_under_the_right_key_with_the_wrong_aad() -> None:
    _rejected(BadCiphertext, "bad_ciphertext", _malicious(aad=b""))
    _rejected(BadCiphertext, "bad_ciphertext", _malicious(aad=b"another header"))


def test_bad_ciphertext_under_the_right_key_with_another_nonce() -> None:
    ck = crypto.random_bytes(32)
    header = _header(content_key=ck)
    stanzas = [crypto.seal_to(BOB.encryption.public_key, ck)]
    nonce = crypto.random_bytes(crypto.AEAD_NONCE_BYTES)
    ciphertext = crypto.aead_encrypt(ck, nonce, PAYLOAD, header.to_bytes())
    _rejected(BadCiphertext, "bad_ciphertext", _signed(header.to_bytes(), stanzas, ciphertext))


@pytest.mark.parametrize("ciphertext", [b"", b"short", bytes(16)])
def test_bad_ciphertext_that_is_too_short_or_empty(ciphertext: bytes) -> None:
    ck = crypto.random_bytes(32)
    header = _header(content_key=ck)
    stanzas = [crypto.seal_to(BOB.encryption.public_key, ck)]
    _rejected(BadCiphertext, "bad_ciphertext", _signed(header.to_bytes(), stanzas, ciphertext))


def test_bad_ciphertext_when_the_committed_key_did_not_encrypt() -> None:
    ck = crypto.random_bytes(32)
    data = _malicious(stanza_keys=[ck], committed_key=ck, encryption_key=crypto.random_bytes(32))
    _rejected(BadCiphertext, "bad_ciphertext", data)


# --- Properties ------------------------------------------------------------------------------

SEALED = _seal((BOB, CAROL))


def _flip_rejected(data: bytes, index: int, mask: int) -> None:
    tampered = bytearray(data)
    tampered[index] ^= mask
    try:
        opened = _open(bytes(tampered))
    except PeerError:
        return
    raise AssertionError(f"byte {index} ^ {mask:#04x} was accepted: {opened!r}")


def test_every_single_bit_flip_is_rejected() -> None:
    # Exhaustive over positions for two masks; the property below covers other masks.
    for index in range(len(SEALED.data)):
        for mask in (0x01, 0x80):
            _flip_rejected(SEALED.data, index, mask)


@PROPERTY
@given(data=st.data())
def test_any_single_byte_change_is_rejected_with_a_peer_error(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(SEALED.data) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    _flip_rejected(SEALED.data, index, mask)


_header_changes = st.one_of(
    st.builds(lambda v: {"notice_id": v}, st.text(min_size=1, max_size=20)),
    st.builds(lambda v: {"message_id": v}, st.binary(min_size=16, max_size=16)),
    st.builds(lambda v: {"kind": v}, st.sampled_from(["modus_operandi", "correction"])),
    st.builds(lambda v: {"tlp": v}, st.sampled_from(["clear", "green", "red"])),
    st.builds(lambda v: {"handling_code": v}, st.sampled_from(["h0", "h1", "h3"])),
    st.builds(lambda v: {"sop_id": v}, st.text(min_size=1, max_size=20)),
    st.builds(lambda v: {"sop_version": v}, st.integers(2, 2**32 - 1)),
    st.builds(lambda v: {"created_at_ms": v}, st.integers(NOW - HOUR, NOW + MAX_CLOCK_SKEW_MS)),
    st.builds(lambda v: {"expires_at_ms": v}, st.integers(NOW + HOUR + 1, 2**62)),
    st.just({"recipients": tuple(reversed(SEALED.header.recipients))}),
)


@PROPERTY
@given(changes=_header_changes)
def test_a_resigned_header_does_not_fit_the_ciphertext(changes: dict[str, Any]) -> None:
    """The header is the AEAD's associated data: a sender (or anyone holding a signing key)
    who edits and re-signs the header cannot reuse the ciphertext under it."""
    header = dataclasses.replace(SEALED.header, **changes)
    header_bytes = header.to_bytes()
    if header_bytes == SEALED.header_bytes:
        return
    parts = _parts(SEALED.data)
    stanzas = list(parts.stanzas)
    if "recipients" in changes:
        stanzas.reverse()
    data = _signed(header_bytes, stanzas, parts.ciphertext)
    _rejected(BadCiphertext, "bad_ciphertext", data)
    _rejected(BadCiphertext, "bad_ciphertext", data, node=CAROL)
