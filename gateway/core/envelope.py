"""Sealing and opening envelopes (DESIGN.md section 5).

Sealing, for one group of recipients that gets the same field view:
1. a fresh 32-byte content key `ck` per envelope (never reused, so random 24-byte nonces are
   more than safe);
2. one sealed box per recipient wrapping `ck` (anonymous X25519, 80 bytes);
3. `key_commitment = BLAKE2b-256(key=ck, data="gw-key-commitment-v1")`: Poly1305 is not
   key-committing, so without this a malicious sender could wrap different keys for different
   recipients and show each of them a different notice under one signature;
4. `ciphertext = XChaCha20-Poly1305(ck, nonce, payload, aad=header)`: the header names sender
   and recipients, so binding it defeats surreptitious forwarding;
5. `signature = Ed25519("gw-envelope-v1\\0" || lp(header) || lp(stanzas...) || lp(ciphertext))`
   over the exact bytes sent; nobody re-serializes to verify.

Opening checks, in this order, and stops at the first failure with its own error (see
gateway/errors.py): size, outer parse, sender key known and not revoked, signature, header
parse, addressed to us, time window, SOP and party (policy), stanza length, unseal, commitment
(constant time), decrypt, payload (policy: parse and field view). Storing, replay protection and
the receipt are the caller's, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from gateway._pb.gateway.v1 import common_pb2, envelope_pb2
from gateway.core import crypto, keys
from gateway.core.wire import decode, enum_key, enum_name, kind_key, kind_name
from gateway.errors import (
    BadCiphertext,
    BadCommitment,
    BadSignature,
    BadStanza,
    ConfigError,
    Expired,
    FromFuture,
    Malformed,
    NotForUs,
    Oversized,
    PeerError,
    UnsupportedSuite,
)

__all__ = [
    "COMMITMENT_LABEL",
    "ENVELOPE_LABEL",
    "MAX_CLOCK_SKEW_MS",
    "MAX_ENVELOPE_BYTES",
    "EnvelopeHeader",
    "OpenedEnvelope",
    "Recipient",
    "RecipientKey",
    "SealedEnvelope",
    "SenderKeys",
    "key_commitment",
    "open_envelope",
    "seal",
    "signing_message",
]

ENVELOPE_LABEL = b"gw-envelope-v1\0"
COMMITMENT_LABEL = b"gw-key-commitment-v1"
SUITE = envelope_pb2.SUITE_ED25519_X25519_XCHACHA20POLY1305_V1
MESSAGE_ID_BYTES = 16
# A notice with every field group filled is a few KB; 256 KiB leaves room for long lists
# while bounding what an unauthenticated peer can make us read and hash.
MAX_ENVELOPE_BYTES = 256 * 1024
MAX_RECIPIENTS = 64
# Nodes run NTP; five minutes tolerates a badly kept clock without opening a wide replay window
# (replays are refused by message id anyway).
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

T = TypeVar("T")


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def signing_message(header: bytes, stanzas: Sequence[bytes], ciphertext: bytes) -> bytes:
    """The exact bytes an envelope signature covers (after the domain label)."""
    parts = [_lp(header), len(stanzas).to_bytes(8, "big")]
    parts.extend(_lp(s) for s in stanzas)
    parts.append(_lp(ciphertext))
    return b"".join(parts)


def key_commitment(content_key: bytes) -> bytes:
    return crypto.blake2b_256(COMMITMENT_LABEL, key=content_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientKey:
    """A recipient as the sender seals to it."""

    node_id: str
    encryption_key: bytes

    @property
    def key_id(self) -> bytes:
        return keys.key_id(self.encryption_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    node_id: str
    encryption_key_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeHeader:
    """What the signed header says, as domain values."""

    message_id: bytes
    notice_id: str
    sender_node_id: str
    sender_key_id: bytes
    recipients: tuple[Recipient, ...]
    kind: str
    sop_id: str
    sop_version: int
    created_at_ms: int
    expires_at_ms: int
    tlp: str
    handling_code: str
    nonce: bytes = field(repr=False)
    key_commitment: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.message_id) != MESSAGE_ID_BYTES:
            raise Malformed("header.message_id must be 16 bytes")
        if not self.notice_id or not self.sender_node_id:
            raise Malformed("header.notice_id and header.sender_node_id are required")
        if len(self.sender_key_id) != keys.KEY_ID_BYTES:
            raise Malformed("header.sender_key_id must be 8 bytes")
        if not 0 < len(self.recipients) <= MAX_RECIPIENTS:
            raise Malformed(f"header.recipients must list 1-{MAX_RECIPIENTS} recipients")
        if len({(r.node_id, r.encryption_key_id) for r in self.recipients}) != len(self.recipients):
            raise Malformed("header.recipients lists a recipient twice")
        if not self.sop_id or self.sop_version <= 0:
            raise Malformed("header.sop_id and header.sop_version are required")
        if self.expires_at_ms <= self.created_at_ms:
            raise Malformed("header.expires_at_ms must be after header.created_at_ms")
        if len(self.nonce) != crypto.AEAD_NONCE_BYTES:
            raise Malformed("header.nonce must be 24 bytes")
        if len(self.key_commitment) != 32:
            raise Malformed("header.key_commitment must be 32 bytes")

    def to_bytes(self) -> bytes:
        pb = envelope_pb2.Header(
            suite=SUITE,
            message_id=self.message_id,
            notice_id=self.notice_id,
            sender_node_id=self.sender_node_id,
            sender_key_id=self.sender_key_id,
            recipients=[
                envelope_pb2.Recipient(node_id=r.node_id, encryption_key_id=r.encryption_key_id)
                for r in self.recipients
            ],
            kind=kind_key(self.kind),
            sop_id=self.sop_id,
            sop_version=self.sop_version,
            created_at_ms=self.created_at_ms,
            expires_at_ms=self.expires_at_ms,
            handling=common_pb2.Handling(
                tlp=enum_key(common_pb2.Tlp, self.tlp),
                handling_code=enum_key(common_pb2.HandlingCode, self.handling_code),
            ),
            nonce=self.nonce,
            key_commitment=self.key_commitment,
        )
        return pb.SerializeToString()

    @classmethod
    def from_bytes(cls, data: bytes) -> EnvelopeHeader:
        pb = decode(envelope_pb2.Header, data, Malformed, "envelope header")
        if pb.suite != SUITE:
            raise UnsupportedSuite(f"suite {pb.suite} is not supported")
        try:
            kind = kind_name(pb.kind)
            tlp = enum_name(common_pb2.Tlp, pb.handling.tlp)
            handling_code = enum_name(common_pb2.HandlingCode, pb.handling.handling_code)
        except ValueError as exc:
            raise Malformed("header has an unknown kind, TLP or handling code") from exc
        if "unspecified" in (kind, tlp, handling_code):
            raise Malformed("header.kind, header.handling.tlp and handling_code are required")
        return cls(
            message_id=pb.message_id,
            notice_id=pb.notice_id,
            sender_node_id=pb.sender_node_id,
            sender_key_id=pb.sender_key_id,
            recipients=tuple(
                Recipient(node_id=r.node_id, encryption_key_id=r.encryption_key_id)
                for r in pb.recipients
            ),
            kind=kind,
            sop_id=pb.sop_id,
            sop_version=pb.sop_version,
            created_at_ms=pb.created_at_ms,
            expires_at_ms=pb.expires_at_ms,
            tlp=tlp,
            handling_code=handling_code,
            nonce=pb.nonce,
            key_commitment=pb.key_commitment,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedEnvelope:
    message_id: bytes
    header: EnvelopeHeader
    header_bytes: bytes
    data: bytes  # the serialized SignedEnvelope, exactly as it goes on the wire


def seal(
    *,
    payload: bytes,
    notice_id: str,
    kind: str,
    sop_id: str,
    sop_version: int,
    tlp: str,
    handling_code: str,
    created_at_ms: int,
    expires_at_ms: int,
    sender_node_id: str,
    signing: keys.SigningKeyPair,
    recipients: Sequence[RecipientKey],
) -> SealedEnvelope:
    """Encrypt `payload` (a serialized Notice) for `recipients` and sign it."""
    if not recipients:
        raise ConfigError("an envelope needs at least one recipient")
    content_key = crypto.random_bytes(crypto.AEAD_KEY_BYTES)
    header = EnvelopeHeader(
        message_id=crypto.random_bytes(MESSAGE_ID_BYTES),
        notice_id=notice_id,
        sender_node_id=sender_node_id,
        sender_key_id=signing.key_id,
        recipients=tuple(
            Recipient(node_id=r.node_id, encryption_key_id=r.key_id) for r in recipients
        ),
        kind=kind,
        sop_id=sop_id,
        sop_version=sop_version,
        created_at_ms=created_at_ms,
        expires_at_ms=expires_at_ms,
        tlp=tlp,
        handling_code=handling_code,
        nonce=crypto.random_bytes(crypto.AEAD_NONCE_BYTES),
        key_commitment=key_commitment(content_key),
    )
    header_bytes = header.to_bytes()
    try:
        stanzas = [crypto.seal_to(r.encryption_key, content_key) for r in recipients]
    except crypto.CryptoFailure as exc:
        raise ConfigError("a recipient's encryption key is unusable (low order)") from exc
    ciphertext = crypto.aead_encrypt(content_key, header.nonce, payload, header_bytes)
    signature = signing.sign(ENVELOPE_LABEL, signing_message(header_bytes, stanzas, ciphertext))
    data = envelope_pb2.SignedEnvelope(
        header=header_bytes,
        stanzas=stanzas,
        ciphertext=ciphertext,
        signature=signature,
        signer_key_id=signing.key_id,
    ).SerializeToString()
    if len(data) > MAX_ENVELOPE_BYTES:
        # Every receiver refuses it unread, so the refusal could not even be bound to it.
        raise ConfigError(
            f"the sealed notice is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}:"
            " shorten lists or free-text fields"
        )
    return SealedEnvelope(
        message_id=header.message_id, header=header, header_bytes=header_bytes, data=data
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderKeys:
    """A peer's signing key, as the directory knows it (revocation already checked)."""

    node_id: str
    signing_key: bytes


class Directory(Protocol):
    def sender_for_key(self, key_id: bytes) -> SenderKeys:
        """Return the peer owning `key_id`; raise UnknownSender or RevokedKey."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedEnvelope(Generic[T]):
    header: EnvelopeHeader
    header_bytes: bytes
    payload: bytes = field(repr=False)
    notice: T = field(repr=False)


def open_envelope(
    data: bytes,
    *,
    node_id: str,
    encryption: keys.EncryptionKeyPair,
    directory: Directory,
    now_ms: int,
    check_header: Callable[[EnvelopeHeader], None],
    check_payload: Callable[[EnvelopeHeader, bytes], T],
    max_skew_ms: int = MAX_CLOCK_SKEW_MS,
) -> OpenedEnvelope[T]:
    """Verify and decrypt an envelope addressed to `node_id`, in the order of DESIGN.md 5.

    `check_header` applies the SOP policy to the verified header (UnknownSop, NotAParty);
    `check_payload` parses the decrypted payload and enforces the field view
    (MalformedPayload, FieldsNotAllowed), returning the parsed notice.
    """
    if len(data) > MAX_ENVELOPE_BYTES:
        raise Oversized(f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
    outer = decode(envelope_pb2.SignedEnvelope, data, Malformed, "envelope")
    sender = directory.sender_for_key(outer.signer_key_id)
    try:
        crypto.ed25519_verify(
            sender.signing_key,
            ENVELOPE_LABEL + signing_message(outer.header, outer.stanzas, outer.ciphertext),
            outer.signature,
        )
    except crypto.CryptoFailure as exc:
        raise BadSignature("envelope signature does not verify") from exc

    try:
        header = EnvelopeHeader.from_bytes(outer.header)
        if header.sender_node_id != sender.node_id or header.sender_key_id != outer.signer_key_id:
            raise BadSignature("header names a different sender than the key that signed it")
        try:
            return _open_for_us(
                outer,
                header,
                node_id=node_id,
                encryption=encryption,
                now_ms=now_ms,
                check_header=check_header,
                check_payload=check_payload,
                max_skew_ms=max_skew_ms,
            )
        except PeerError as err:
            err.message_id = header.message_id  # signed, so safe to name in the rejection
            raise
    except PeerError as err:
        err.sender = sender.node_id  # authenticated by the signature, so safe to record
        raise


def _open_for_us(
    outer: envelope_pb2.SignedEnvelope,
    header: EnvelopeHeader,
    *,
    node_id: str,
    encryption: keys.EncryptionKeyPair,
    now_ms: int,
    check_header: Callable[[EnvelopeHeader], None],
    check_payload: Callable[[EnvelopeHeader, bytes], T],
    max_skew_ms: int,
) -> OpenedEnvelope[T]:
    """The checks after the signature and the header's sender: all of it signed by the sender."""
    if len(outer.stanzas) != len(header.recipients):
        raise Malformed("envelope has a different number of stanzas than recipients")
    ours = [
        i
        for i, r in enumerate(header.recipients)
        if r.node_id == node_id and r.encryption_key_id == encryption.key_id
    ]
    if not ours:
        raise NotForUs(f"envelope is not addressed to {node_id} with our current key")

    if header.created_at_ms > now_ms + max_skew_ms:
        raise FromFuture("envelope was created in the future beyond the allowed clock skew")
    if header.expires_at_ms <= now_ms:
        raise Expired("envelope has expired")
    check_header(header)

    stanza = outer.stanzas[ours[0]]
    if len(stanza) != crypto.SEALED_KEY_BYTES:
        raise BadStanza(f"stanza must be {crypto.SEALED_KEY_BYTES} bytes")
    try:
        content_key = crypto.unseal(encryption.private_key, stanza, encryption.public_key)
    except crypto.CryptoFailure as exc:
        raise BadStanza("our stanza does not open") from exc
    if len(content_key) != crypto.AEAD_KEY_BYTES or not crypto.ct_equal(
        key_commitment(content_key), header.key_commitment
    ):
        raise BadCommitment("content key does not match the header's key commitment")
    try:
        payload = crypto.aead_decrypt(content_key, header.nonce, outer.ciphertext, outer.header)
    except crypto.CryptoFailure as exc:
        raise BadCiphertext("content does not decrypt") from exc
    notice = check_payload(header, payload)
    return OpenedEnvelope(header=header, header_bytes=outer.header, payload=payload, notice=notice)
