"""Signed receipts and signed rejections (DESIGN.md section 5).

A receipt is the receiver's signed statement that it verified, decrypted and durably stored an
envelope (non-repudiation of receipt, as in AS4); it names the exact header it saw by digest and
carries the receiver's latest audit checkpoint. A rejection is the receiver's signed statement of
why it refused an envelope, with a stable machine-readable code. Neither carries any of the
notice's content. Each has its own signature label, so neither can pass for the other or for an
envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway._pb.gateway.v1 import envelope_pb2
from gateway.core import crypto, keys
from gateway.core.wire import decode, enum_key, enum_name
from gateway.errors import BadReceipt

__all__ = [
    "RECEIPT_LABEL",
    "REJECTION_LABEL",
    "Receipt",
    "Rejection",
    "envelope_digest",
    "header_digest",
    "make_receipt",
    "make_rejection",
    "open_receipt",
    "open_rejection",
    "receipt_signer",
    "rejection_signer",
    "rejects",
]

RECEIPT_LABEL = b"gw-receipt-v1\0"
REJECTION_LABEL = b"gw-rejection-v1\0"
MAX_REASON_CHARS = 500


def header_digest(header_bytes: bytes) -> bytes:
    return crypto.sha256(header_bytes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    message_id: bytes
    sender_node_id: str
    receiver_node_id: str
    received_at_ms: int
    header_digest: bytes
    audit_checkpoint: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    message_id: bytes
    rejecter_node_id: str
    code: str
    reason: str
    rejected_at_ms: int
    envelope_digest: bytes = b""  # SHA-256 of the refused bytes; empty if they were not read


def make_receipt(receipt: Receipt, signing: keys.SigningKeyPair) -> bytes:
    body = envelope_pb2.Receipt(
        message_id=receipt.message_id,
        sender_node_id=receipt.sender_node_id,
        receiver_node_id=receipt.receiver_node_id,
        received_at_ms=receipt.received_at_ms,
        header_digest=receipt.header_digest,
        status=envelope_pb2.RECEIPT_STATUS_ACCEPTED,
        audit_checkpoint=receipt.audit_checkpoint,
    ).SerializeToString()
    return envelope_pb2.SignedReceipt(
        receipt=body, signature=signing.sign(RECEIPT_LABEL, body), signer_key_id=signing.key_id
    ).SerializeToString()


def open_receipt(
    data: bytes,
    *,
    signing_key: bytes,
    message_id: bytes,
    receiver_node_id: str,
    header_bytes: bytes,
) -> Receipt:
    """Verify a receipt from `receiver_node_id` for the envelope we sent; BadReceipt if not."""
    signed = decode(envelope_pb2.SignedReceipt, data, BadReceipt, "receipt")
    try:
        crypto.ed25519_verify(signing_key, RECEIPT_LABEL + signed.receipt, signed.signature)
    except crypto.CryptoFailure as exc:
        raise BadReceipt(f"receipt from {receiver_node_id} does not verify") from exc
    pb = decode(envelope_pb2.Receipt, signed.receipt, BadReceipt, "receipt body")
    if pb.status != envelope_pb2.RECEIPT_STATUS_ACCEPTED:
        raise BadReceipt("receipt does not say accepted")
    if pb.message_id != message_id or pb.receiver_node_id != receiver_node_id:
        raise BadReceipt("receipt is for another message or from another node")
    if not crypto.ct_equal(pb.header_digest, header_digest(header_bytes)):
        raise BadReceipt("receipt names a different header than the one we sent")
    return Receipt(
        message_id=pb.message_id,
        sender_node_id=pb.sender_node_id,
        receiver_node_id=pb.receiver_node_id,
        received_at_ms=pb.received_at_ms,
        header_digest=pb.header_digest,
        audit_checkpoint=pb.audit_checkpoint,
    )


def receipt_signer(data: bytes) -> bytes:
    """The unauthenticated signer key id of a SignedReceipt, to find the key to verify with."""
    return decode(envelope_pb2.SignedReceipt, data, BadReceipt, "receipt").signer_key_id


def rejection_signer(data: bytes) -> bytes:
    """The unauthenticated signer key id of a SignedRejection."""
    return decode(envelope_pb2.SignedRejection, data, BadReceipt, "rejection").signer_key_id


def make_rejection(rejection: Rejection, signing: keys.SigningKeyPair) -> bytes:
    body = envelope_pb2.Rejection(
        message_id=rejection.message_id,
        rejecter_node_id=rejection.rejecter_node_id,
        code=enum_key(envelope_pb2.RejectionCode, rejection.code),
        reason=rejection.reason[:MAX_REASON_CHARS],
        rejected_at_ms=rejection.rejected_at_ms,
        envelope_digest=rejection.envelope_digest,
    ).SerializeToString()
    return envelope_pb2.SignedRejection(
        rejection=body,
        signature=signing.sign(REJECTION_LABEL, body),
        signer_key_id=signing.key_id,
    ).SerializeToString()


def open_rejection(data: bytes, *, signing_key: bytes, rejecter_node_id: str) -> Rejection:
    """Verify a rejection signed by `rejecter_node_id`; BadReceipt if it does not verify."""
    signed = decode(envelope_pb2.SignedRejection, data, BadReceipt, "rejection")
    try:
        crypto.ed25519_verify(signing_key, REJECTION_LABEL + signed.rejection, signed.signature)
    except crypto.CryptoFailure as exc:
        raise BadReceipt(f"rejection from {rejecter_node_id} does not verify") from exc
    pb = decode(envelope_pb2.Rejection, signed.rejection, BadReceipt, "rejection body")
    if pb.rejecter_node_id != rejecter_node_id:
        raise BadReceipt("rejection is from another node")
    try:
        code = enum_name(envelope_pb2.RejectionCode, pb.code)
    except ValueError:
        code = "unspecified"
    return Rejection(
        message_id=pb.message_id,
        rejecter_node_id=pb.rejecter_node_id,
        code=code,
        reason=pb.reason,
        rejected_at_ms=pb.rejected_at_ms,
        envelope_digest=pb.envelope_digest,
    )


def envelope_digest(data: bytes) -> bytes:
    """What a rejection is bound to: the exact envelope bytes it refuses."""
    return crypto.sha256(data)


def rejects(rejection: Rejection, envelope: bytes) -> bool:
    """True only if `rejection` was made for exactly these envelope bytes.

    A rejection of one envelope must not end the delivery of another: anyone on the path who
    kept a signed rejection could otherwise replay it against every later envelope.
    """
    return bool(rejection.envelope_digest) and crypto.ct_equal(
        rejection.envelope_digest, envelope_digest(envelope)
    )
