"""gateway.core.receipts: signed receipts and rejections, and their domain separation."""

from __future__ import annotations

import inspect
from typing import cast

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import errors
from gateway._pb.gateway.v1 import envelope_pb2
from gateway.core import crypto
from gateway.core.card import CARD_LABEL
from gateway.core.directory import Directory, PeerKey, PeerRecord
from gateway.core.envelope import ENVELOPE_LABEL, RecipientKey, open_envelope, seal
from gateway.core.keys import EncryptionKeyPair, SigningKeyPair, fingerprint
from gateway.core.receipts import (
    MAX_REASON_CHARS,
    RECEIPT_LABEL,
    REJECTION_LABEL,
    Receipt,
    Rejection,
    header_digest,
    make_receipt,
    make_rejection,
    open_receipt,
    open_rejection,
    receipt_signer,
    rejection_signer,
)
from gateway.core.wire import enum_names
from gateway.errors import BadReceipt, BadSignature, PeerError

NOW = 1_700_000_000_000
BOB = SigningKeyPair(seed=bytes([2]) * 32)  # the receiver, who signs receipts
CAROL = SigningKeyPair(seed=bytes([3]) * 32)
HEADER = b"\x08\x01the header bytes exactly as sent"
MESSAGE_ID = bytes(range(16))
CHECKPOINT = b"gw.example/audit\n12\nroot\n\n- sig\n"
RECEIPT = Receipt(
    message_id=MESSAGE_ID,
    sender_node_id="gw-a",
    receiver_node_id="gw-b",
    received_at_ms=NOW,
    header_digest=header_digest(HEADER),
    audit_checkpoint=CHECKPOINT,
)
SIGNED_RECEIPT = make_receipt(RECEIPT, BOB)


def _open(
    data: bytes,
    *,
    signing_key: bytes = BOB.public_key,
    message_id: bytes = MESSAGE_ID,
    receiver_node_id: str = "gw-b",
    header_bytes: bytes = HEADER,
) -> Receipt:
    return open_receipt(
        data,
        signing_key=signing_key,
        message_id=message_id,
        receiver_node_id=receiver_node_id,
        header_bytes=header_bytes,
    )


def _resigned_receipt(**fields: object) -> bytes:
    """A receipt validly signed by BOB, with its body fields set by hand."""
    body = envelope_pb2.Receipt(
        message_id=MESSAGE_ID,
        sender_node_id="gw-a",
        receiver_node_id="gw-b",
        received_at_ms=NOW,
        header_digest=header_digest(HEADER),
        status=envelope_pb2.RECEIPT_STATUS_ACCEPTED,
    )
    for name, value in fields.items():
        setattr(body, name, value)
    data = body.SerializeToString()
    return envelope_pb2.SignedReceipt(
        receipt=data, signature=BOB.sign(RECEIPT_LABEL, data), signer_key_id=BOB.key_id
    ).SerializeToString()


# --- Receipts --------------------------------------------------------------------------------


def test_receipt_round_trip() -> None:
    assert _open(SIGNED_RECEIPT) == RECEIPT
    assert receipt_signer(SIGNED_RECEIPT) == BOB.key_id


def test_header_digest_is_sha256_of_the_exact_header_bytes() -> None:
    assert header_digest(HEADER) == crypto.sha256(HEADER)
    assert header_digest(HEADER) != header_digest(HEADER + b"\0")


def test_the_hand_built_receipt_opens() -> None:
    """Guards the helper: each case below differs from this in one field."""
    assert _open(_resigned_receipt()).message_id == MESSAGE_ID


def test_a_receipt_from_the_wrong_signer_key_is_refused() -> None:
    with pytest.raises(BadReceipt, match="does not verify"):
        _open(SIGNED_RECEIPT, signing_key=CAROL.public_key)
    with pytest.raises(BadReceipt, match="does not verify"):
        _open(make_receipt(RECEIPT, CAROL))


def test_a_receipt_for_another_message_is_refused() -> None:
    with pytest.raises(BadReceipt, match="another message"):
        _open(SIGNED_RECEIPT, message_id=bytes(16))


def test_a_receipt_from_another_receiver_is_refused() -> None:
    with pytest.raises(BadReceipt, match="another node"):
        _open(SIGNED_RECEIPT, receiver_node_id="gw-c")
    with pytest.raises(BadReceipt, match="another node"):
        _open(_resigned_receipt(receiver_node_id="gw-c"))


def test_a_receipt_for_another_header_is_refused() -> None:
    with pytest.raises(BadReceipt, match="different header"):
        _open(SIGNED_RECEIPT, header_bytes=HEADER + b"\0")
    with pytest.raises(BadReceipt, match="different header"):
        _open(_resigned_receipt(header_digest=header_digest(b"another header")))
    with pytest.raises(BadReceipt, match="different header"):
        _open(_resigned_receipt(header_digest=b""))


@pytest.mark.parametrize("status", [envelope_pb2.RECEIPT_STATUS_UNSPECIFIED, 7])
def test_a_receipt_that_does_not_say_accepted_is_refused(status: int) -> None:
    with pytest.raises(BadReceipt, match="accepted"):
        _open(_resigned_receipt(status=status))


@pytest.mark.parametrize("data", [b"\xff\xff", b"\x0a\x10short"])
def test_a_receipt_that_is_not_a_protobuf_is_refused(data: bytes) -> None:
    with pytest.raises(BadReceipt):
        _open(data)
    with pytest.raises(BadReceipt):
        receipt_signer(data)


def test_a_signed_body_that_is_not_a_receipt_is_refused() -> None:
    body = b"\xff\xff\xff"
    data = envelope_pb2.SignedReceipt(receipt=body, signature=BOB.sign(RECEIPT_LABEL, body))
    with pytest.raises(BadReceipt, match="receipt body"):
        _open(data.SerializeToString())


def _signed_fields(data: bytes) -> tuple[bytes, bytes]:
    signed = envelope_pb2.SignedReceipt.FromString(data)
    return signed.receipt, signed.signature


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, len(SIGNED_RECEIPT) - 1), mask=st.integers(1, 255))
def test_tampered_receipt_bytes_are_refused(index: int, mask: int) -> None:
    tampered = bytearray(SIGNED_RECEIPT)
    tampered[index] ^= mask
    try:
        receipt = _open(bytes(tampered))
    except BadReceipt:
        return
    # Only the unauthenticated signer hint may change without notice: the caller chose the
    # key, and the signed body and signature must be exactly what BOB signed.
    assert _signed_fields(bytes(tampered)) == _signed_fields(SIGNED_RECEIPT)
    assert receipt == RECEIPT


def test_every_tampered_byte_of_the_signed_part_is_refused() -> None:
    for index in range(len(SIGNED_RECEIPT)):
        tampered = bytearray(SIGNED_RECEIPT)
        tampered[index] ^= 0x01
        try:
            fields = _signed_fields(bytes(tampered))
        except DecodeError:  # not even a protobuf: certainly refused below
            fields = (b"", b"")
        if fields == _signed_fields(SIGNED_RECEIPT):
            continue  # only the signer hint changed
        with pytest.raises(BadReceipt):
            _open(bytes(tampered))


# --- Domain separation -------------------------------------------------------------------------


def test_labels_are_distinct_and_none_is_a_prefix_of_another() -> None:
    labels = [RECEIPT_LABEL, REJECTION_LABEL, ENVELOPE_LABEL, CARD_LABEL]
    assert len(set(labels)) == len(labels)
    for a in labels:
        assert a.endswith(b"\0")
        for b in labels:
            assert a == b or not b.startswith(a)


def _polyglot_body() -> bytes:
    """One body that parses as a Receipt and as a Rejection from gw-b.

    Field numbers and wire types line up (1 bytes, 2 string, 3 varint, 4 string, 5 varint),
    so only the signature label can tell what BOB meant to sign.
    """
    return envelope_pb2.Receipt(
        message_id=MESSAGE_ID,
        receiver_node_id="gw-b",  # Rejection.rejecter_node_id
        received_at_ms=envelope_pb2.REJECTION_CODE_REPLAYED,  # Rejection.code
        header_digest=b"an ascii digest",  # Rejection.reason
        status=envelope_pb2.RECEIPT_STATUS_ACCEPTED,  # Rejection.rejected_at_ms
    ).SerializeToString()


def test_a_receipt_signature_cannot_pass_for_a_rejection() -> None:
    body = _polyglot_body()
    as_rejection = open_rejection(
        envelope_pb2.SignedRejection(
            rejection=body, signature=BOB.sign(REJECTION_LABEL, body)
        ).SerializeToString(),
        signing_key=BOB.public_key,
        rejecter_node_id="gw-b",
    )
    assert as_rejection.code == "replayed"  # the body itself is a fine rejection

    # BOB's genuine receipt signature over that body...
    receipt = make_receipt(
        Receipt(
            message_id=MESSAGE_ID,
            sender_node_id="",
            receiver_node_id="gw-b",
            received_at_ms=envelope_pb2.REJECTION_CODE_REPLAYED,
            header_digest=b"an ascii digest",
            audit_checkpoint=b"",
        ),
        BOB,
    )
    body, signature = _signed_fields(receipt)
    assert body == _polyglot_body()
    crypto.ed25519_verify(BOB.public_key, RECEIPT_LABEL + body, signature)
    # ...re-wrapped as a rejection does not verify: the label is what refuses it.
    rewrapped = envelope_pb2.SignedRejection(
        rejection=body, signature=signature, signer_key_id=BOB.key_id
    ).SerializeToString()
    with pytest.raises(BadReceipt, match="does not verify"):
        open_rejection(rewrapped, signing_key=BOB.public_key, rejecter_node_id="gw-b")


def test_a_rejection_signature_cannot_pass_for_a_receipt() -> None:
    signed = envelope_pb2.SignedRejection.FromString(
        make_rejection(
            Rejection(
                message_id=MESSAGE_ID,
                rejecter_node_id="gw-b",
                code="expired",
                reason="r",
                rejected_at_ms=1,
            ),
            BOB,
        )
    )
    rewrapped = envelope_pb2.SignedReceipt(
        receipt=signed.rejection, signature=signed.signature, signer_key_id=BOB.key_id
    ).SerializeToString()
    with pytest.raises(BadReceipt, match="does not verify"):
        _open(rewrapped)


def _directory_with(node_id: str, signing: SigningKeyPair) -> Directory:
    def key(purpose: str, public_key: bytes) -> PeerKey:
        return PeerKey(
            key_id=crypto.blake2b_256(public_key)[:8],
            node_id=node_id,
            purpose=purpose,
            public_key=public_key,
            revoked=False,
        )

    encryption = EncryptionKeyPair(private_key=bytes([9]) * 32).public_key
    audit = SigningKeyPair(seed=bytes([8]) * 32).public_key
    return Directory.of(
        [
            PeerRecord(
                node_id=node_id,
                country="DE",
                name=node_id,
                endpoint="https://gw.example.de",
                fingerprint=fingerprint(node_id, signing.public_key, encryption, audit),
                revoked=False,
                keys=(
                    key("signing", signing.public_key),
                    key("encryption", encryption),
                    key("audit", audit),
                ),
            )
        ]
    )


def test_a_receipt_signature_cannot_pass_for_an_envelope_signature() -> None:
    body, signature = _signed_fields(SIGNED_RECEIPT)
    reader = EncryptionKeyPair(private_key=bytes([1]) * 32)
    envelope = envelope_pb2.SignedEnvelope(
        header=body, stanzas=[], ciphertext=b"", signature=signature, signer_key_id=BOB.key_id
    ).SerializeToString()
    with pytest.raises(BadSignature):
        open_envelope(
            envelope,
            node_id="gw-a",
            encryption=reader,
            directory=_directory_with("gw-b", BOB),
            now_ms=NOW,
            check_header=lambda h: None,
            check_payload=lambda h, p: p,
        )


def test_an_envelope_signature_cannot_pass_for_a_receipt() -> None:
    reader = EncryptionKeyPair(private_key=bytes([1]) * 32)
    sealed = seal(
        payload=b"notice",
        notice_id="n-1",
        kind="acknowledgement",
        sop_id="sop-a",
        sop_version=1,
        tlp="green",
        handling_code="h3",
        created_at_ms=NOW,
        expires_at_ms=NOW + 1000,
        sender_node_id="gw-b",
        signing=BOB,
        recipients=[RecipientKey(node_id="gw-a", encryption_key=reader.public_key)],
    )
    outer = envelope_pb2.SignedEnvelope.FromString(sealed.data)
    for body in (outer.header, outer.ciphertext):
        rewrapped = envelope_pb2.SignedReceipt(
            receipt=body, signature=outer.signature, signer_key_id=BOB.key_id
        ).SerializeToString()
        with pytest.raises(BadReceipt, match="does not verify"):
            _open(rewrapped, header_bytes=sealed.header_bytes, message_id=sealed.message_id)


# --- Rejections --------------------------------------------------------------------------------

CODES = enum_names(envelope_pb2.RejectionCode)


@pytest.mark.parametrize("code", CODES)
def test_rejection_round_trip_for_every_code(code: str) -> None:
    rejection = Rejection(
        message_id=MESSAGE_ID,
        rejecter_node_id="gw-b",
        code=code,
        reason=f"refused: {code}",
        rejected_at_ms=NOW,
    )
    data = make_rejection(rejection, BOB)
    assert open_rejection(data, signing_key=BOB.public_key, rejecter_node_id="gw-b") == rejection
    assert rejection_signer(data) == BOB.key_id
    body = envelope_pb2.Rejection.FromString(
        envelope_pb2.SignedRejection.FromString(data).rejection
    )
    assert envelope_pb2.RejectionCode.Name(body.code) == f"REJECTION_CODE_{code.upper()}"


def _peer_error_classes() -> list[type[PeerError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, PeerError) and cls is not PeerError
    ]


def test_every_peer_error_code_is_a_rejection_code_and_back() -> None:
    codes = {cls.code for cls in _peer_error_classes()}
    assert len(codes) == len(_peer_error_classes())
    assert codes == set(CODES)


def test_a_rejection_without_a_message_id_round_trips() -> None:
    rejection = Rejection(
        message_id=b"", rejecter_node_id="gw-b", code="malformed", reason="", rejected_at_ms=0
    )
    data = make_rejection(rejection, BOB)
    assert open_rejection(data, signing_key=BOB.public_key, rejecter_node_id="gw-b") == rejection


def test_a_long_reason_is_cut_to_the_limit() -> None:
    rejection = Rejection(
        message_id=MESSAGE_ID,
        rejecter_node_id="gw-b",
        code="expired",
        reason="x" * (MAX_REASON_CHARS + 100),
        rejected_at_ms=NOW,
    )
    data = make_rejection(rejection, BOB)
    opened = open_rejection(data, signing_key=BOB.public_key, rejecter_node_id="gw-b")
    assert opened.reason == "x" * MAX_REASON_CHARS


@pytest.mark.parametrize("code", ["unspecified", "EXPIRED", "no_such_code", "peer_error"])
def test_make_rejection_refuses_a_code_that_is_not_a_rejection_code(code: str) -> None:
    rejection = Rejection(
        message_id=MESSAGE_ID, rejecter_node_id="gw-b", code=code, reason="", rejected_at_ms=0
    )
    with pytest.raises(KeyError):
        make_rejection(rejection, BOB)


def _signed_rejection_body(code: int, rejecter: str = "gw-b") -> bytes:
    body = envelope_pb2.Rejection(
        message_id=MESSAGE_ID,
        rejecter_node_id=rejecter,
        code=cast(envelope_pb2.RejectionCode, code),  # any number, known or not
        reason="r",
        rejected_at_ms=1,
    ).SerializeToString()
    return envelope_pb2.SignedRejection(
        rejection=body, signature=BOB.sign(REJECTION_LABEL, body), signer_key_id=BOB.key_id
    ).SerializeToString()


@pytest.mark.parametrize("number", [0, 99, 2**31 - 1, -1])
def test_an_unknown_code_number_reads_as_unspecified(number: int) -> None:
    opened = open_rejection(
        _signed_rejection_body(number),
        signing_key=BOB.public_key,
        rejecter_node_id="gw-b",
    )
    assert opened.code == "unspecified"
    assert opened.message_id == MESSAGE_ID


def test_a_rejection_from_another_node_is_refused() -> None:
    data = _signed_rejection_body(envelope_pb2.REJECTION_CODE_EXPIRED, rejecter="gw-c")
    with pytest.raises(BadReceipt, match="another node"):
        open_rejection(data, signing_key=BOB.public_key, rejecter_node_id="gw-b")


def test_a_rejection_from_the_wrong_key_is_refused() -> None:
    data = _signed_rejection_body(envelope_pb2.REJECTION_CODE_EXPIRED)
    with pytest.raises(BadReceipt, match="does not verify"):
        open_rejection(data, signing_key=CAROL.public_key, rejecter_node_id="gw-b")


@pytest.mark.parametrize("data", [b"\xff\xff", b"\x0a\x10short"])
def test_a_rejection_that_is_not_a_protobuf_is_refused(data: bytes) -> None:
    with pytest.raises(BadReceipt):
        open_rejection(data, signing_key=BOB.public_key, rejecter_node_id="gw-b")
    with pytest.raises(BadReceipt):
        rejection_signer(data)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_tampered_rejection_bytes_are_refused(data: st.DataObject) -> None:
    original = _signed_rejection_body(envelope_pb2.REJECTION_CODE_REPLAYED)
    index = data.draw(st.integers(0, len(original) - 1))
    tampered = bytearray(original)
    tampered[index] ^= data.draw(st.integers(1, 255))
    try:
        opened = open_rejection(
            bytes(tampered), signing_key=BOB.public_key, rejecter_node_id="gw-b"
        )
    except BadReceipt:
        return
    # Accepted only if the signed part is untouched (the signer hint is not signed).
    before = envelope_pb2.SignedRejection.FromString(original)
    after = envelope_pb2.SignedRejection.FromString(bytes(tampered))
    assert (after.rejection, after.signature) == (before.rejection, before.signature)
    assert opened.code == "replayed"
