"""What a running node does with bad envelopes POSTed straight to its peer endpoint.

The receiver is Honduras (hn-ncp), a transit state in the fixtures' case, holding the SOPs of
sops/ and the bilateral France-Brazil example. The test plays the senders with their real keys
(read from their key directories) and builds the bytes with gateway.core, so every envelope
below is exactly what a tampering network or a malicious peer could send:

- fr-ncp: a trusted peer, a party to every SOP the receiver holds;
- gt-ncp: a trusted peer, but not a party to bilateral-fr-br;
- br-ncp: a trusted peer that the receiver's operator revokes during the tests.

For each refusal: a 4xx status, a SignedRejection that verifies with the receiver's signing key
(from its card, GET /v1/card) and carries the specific code, and nothing in the inbox. The
inbox may hold only what the tests below stored on purpose (Receiver.stored), each once.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway._pb.gateway.v1 import envelope_pb2, notice_pb2
from gateway.core import crypto, receipts
from gateway.core.card import NodeCard, open_card
from gateway.core.envelope import (
    ENVELOPE_LABEL,
    MAX_CLOCK_SKEW_MS,
    MAX_ENVELOPE_BYTES,
    EnvelopeHeader,
    Recipient,
    RecipientKey,
    key_commitment,
    signing_message,
)
from gateway.core.keys import EncryptionKeyPair, NodeKeys, SigningKeyPair
from gateway.core.notice import kind_name, parse_notice_document
from gateway.core.wire import enum_name
from gateway.localnet import LocalNode
from gateway.store.keyfiles import load_keys
from tests.e2e.federation import NOTICES, SOPS, Federation, MakeFederation, inbox, inbox_rows

RECEIVER = "hn-ncp"
PARA10 = "para10-modus-operandi"
BILATERAL = "bilateral-fr-br"
HOUR_MS = 3_600_000
PROTOBUF = "application/x-protobuf"


# --- playing a sender -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    node_id: str
    signing: SigningKeyPair


@dataclass
class Receiver:
    node: LocalNode
    card: NodeCard
    stored: set[str] = field(default_factory=set)  # notice ids the tests stored on purpose

    @property
    def key(self) -> RecipientKey:
        return RecipientKey(node_id=self.card.node_id, encryption_key=self.card.encryption_key)


@dataclass(frozen=True)
class Crafted:
    data: bytes
    message_id: bytes
    notice_id: str
    header_bytes: bytes


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def notice_from(name: str, *, drop: Sequence[str] = ()) -> notice_pb2.Notice:
    """A fixture notice as a Notice protobuf, without the field groups in `drop`."""
    path = NOTICES / name
    notice = parse_notice_document(tomllib.loads(path.read_text(encoding="utf-8")), source=name)
    for group in drop:
        notice.ClearField(group)
    return notice


def transit_notice() -> notice_pb2.Notice:
    """What para8 lets France send Honduras: the victim notice without the victim group."""
    return notice_from("victim-identification.toml", drop=["victim"])


def parties_notice() -> notice_pb2.Notice:
    """What para10 lets any party send any other: the methods, facts and handling."""
    return notice_from("modus-operandi.toml", drop=["case"])


def seal(
    sender: Sender,
    recipients: Sequence[RecipientKey],
    notice: notice_pb2.Notice,
    *,
    sop_id: str | None = None,
    sop_version: int = 1,
    created_at_ms: int | None = None,
    expires_at_ms: int | None = None,
    message_id: bytes | None = None,
    stanza_keys: Mapping[int, bytes] | None = None,
    payload: bytes | None = None,
    aad: bytes | None = None,
) -> Crafted:
    """Seal and sign like gateway.core.envelope.seal, with a handle on every part of it.

    `stanza_keys` wraps another content key for some recipients (by index), `payload` replaces
    the serialized notice and `aad` the header the content is bound to: what a malicious
    sender could do.
    """
    created = now_ms() if created_at_ms is None else created_at_ms
    notice = notice_pb2.Notice.FromString(notice.SerializeToString())
    notice.notice_id = f"N-E2E{secrets.token_hex(8).upper()}"
    notice.sender_node_id = sender.node_id
    notice.created_at_ms = created
    notice.sop_id = sop_id or notice.sop_id
    notice.sop_version = sop_version
    content_key = crypto.random_bytes(crypto.AEAD_KEY_BYTES)
    header = EnvelopeHeader(
        message_id=message_id or crypto.random_bytes(16),
        notice_id=notice.notice_id,
        sender_node_id=sender.node_id,
        sender_key_id=sender.signing.key_id,
        recipients=tuple(
            Recipient(node_id=r.node_id, encryption_key_id=r.key_id) for r in recipients
        ),
        kind=kind_name(notice.kind),
        sop_id=notice.sop_id,
        sop_version=sop_version,
        created_at_ms=created,
        expires_at_ms=created + HOUR_MS if expires_at_ms is None else expires_at_ms,
        tlp="amber",
        handling_code="h2",
        nonce=crypto.random_bytes(crypto.AEAD_NONCE_BYTES),
        key_commitment=key_commitment(content_key),
    )
    header_bytes = header.to_bytes()
    stanzas = [
        crypto.seal_to(r.encryption_key, (stanza_keys or {}).get(i, content_key))
        for i, r in enumerate(recipients)
    ]
    ciphertext = crypto.aead_encrypt(
        content_key,
        header.nonce,
        notice.SerializeToString() if payload is None else payload,
        header_bytes if aad is None else aad,
    )
    return Crafted(
        data=signed(sender, header_bytes, stanzas, ciphertext),
        message_id=header.message_id,
        notice_id=notice.notice_id,
        header_bytes=header_bytes,
    )


def signed(sender: Sender, header: bytes, stanzas: Sequence[bytes], ciphertext: bytes) -> bytes:
    return envelope_pb2.SignedEnvelope(
        header=header,
        stanzas=stanzas,
        ciphertext=ciphertext,
        signature=sender.signing.sign(ENVELOPE_LABEL, signing_message(header, stanzas, ciphertext)),
        signer_key_id=sender.signing.key_id,
    ).SerializeToString()


def flip_bit(data: bytes, index: int = -1) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def post(node: LocalNode, body: bytes) -> tuple[int, bytes]:
    """POST to the peer endpoint; a Chunked body goes out in 64 KiB chunks."""
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    request = urllib.request.Request(
        f"{node.endpoint}/v1/envelopes",
        data=chunks if isinstance(body, Chunked) else body,
        method="POST",
        headers={"Content-Type": PROTOBUF},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def open_rejection(receiver: Receiver, status: int, body: bytes) -> receipts.Rejection:
    """The receiver's signed rejection; fails unless it verifies with the card's signing key."""
    assert 400 <= status < 500, f"HTTP {status} is not a refusal"
    rejection = receipts.open_rejection(
        body, signing_key=receiver.card.signing_key, rejecter_node_id=RECEIVER
    )
    assert abs(rejection.rejected_at_ms - now_ms()) < 60_000
    return rejection


def assert_nothing_stored(receiver: Receiver, *crafted: Crafted) -> None:
    """The inbox holds exactly the notices that tests stored on purpose, each once."""
    rows = inbox(receiver.node)
    assert sorted(r["notice_id"] for r in rows) == sorted(receiver.stored)
    held = {r["message_id"] for r in rows}
    for envelope in crafted:
        assert envelope.notice_id not in receiver.stored
        assert envelope.message_id.hex() not in held


# --- the federation -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fed(make_federation: MakeFederation) -> Federation:
    sop_files = [*sorted(SOPS.glob("*.toml")), SOPS / "examples" / f"{BILATERAL}.toml"]
    federation = make_federation(
        RECEIVER,
        "fr-ncp",
        "gt-ncp",
        "br-ncp",
        sop_files={RECEIVER: sop_files},
        trust_all=False,
        start=False,
    )
    # Only the receiver runs; the senders' keys are all the tests need of the others.
    federation.trust(RECEIVER, ["fr-ncp", "gt-ncp", "br-ncp"])
    federation.start(RECEIVER)
    return federation


@pytest.fixture(scope="module")
def receiver(fed: Federation) -> Receiver:
    node = fed[RECEIVER]
    with urllib.request.urlopen(f"{node.endpoint}/v1/card", timeout=10) as response:
        card = open_card(response.read())
    assert card.node_id == RECEIVER
    return Receiver(node=node, card=card)


@dataclass(frozen=True)
class Ctx:
    receiver: Receiver
    fr: Sender
    gt: Sender
    br: Sender
    br_encryption: RecipientKey  # Brazil's real encryption key, to address another node


@pytest.fixture(scope="module")
def ctx(fed: Federation, receiver: Receiver) -> Ctx:
    keys = {n: load_keys(fed[n].data_dir / "keys").node for n in ("fr-ncp", "gt-ncp", "br-ncp")}
    return Ctx(
        receiver=receiver,
        fr=Sender("fr-ncp", keys["fr-ncp"].signing),
        gt=Sender("gt-ncp", keys["gt-ncp"].signing),
        br=Sender("br-ncp", keys["br-ncp"].signing),
        br_encryption=RecipientKey(
            node_id="br-ncp", encryption_key=keys["br-ncp"].encryption.public_key
        ),
    )


# --- refusals -------------------------------------------------------------------------------


class Chunked(bytes):
    """A body to POST with Transfer-Encoding: chunked and no Content-Length."""


Body = bytes | Chunked
# Builds what to POST, and the envelope it carries if there is one.
Build = Callable[[Ctx], tuple[Body, Crafted | None]]
# name -> (build, the rejection code, the HTTP status, whether the rejection names the message)
CASES: dict[str, tuple[Build, str, int, bool]] = {}


def case(code: str, status: int, *, names_message: bool = False) -> Callable[[Build], Build]:
    """Register a bad envelope. `names_message`: refused after its signature and header were
    verified, so the rejection carries its message id (envelope.proto, Rejection)."""

    def register(build: Build) -> Build:
        CASES[build.__name__] = (build, code, status, names_message)
        return build

    return register


def valid(ctx: Ctx, **kwargs: Any) -> Crafted:
    """A valid envelope from France to Honduras under para8 (the transit view)."""
    return seal(ctx.fr, [ctx.receiver.key], transit_notice(), **kwargs)


def retouched(crafted: Crafted, **fields: bytes | list[bytes]) -> tuple[bytes, Crafted]:
    """The envelope with some of its signed parts replaced, the signature left as it was."""
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    for name, value in fields.items():
        if name == "stanzas":
            del outer.stanzas[:]
            outer.stanzas.extend(value)  # type: ignore[arg-type]
        else:
            setattr(outer, name, value)
    return outer.SerializeToString(), crafted


@case("bad_signature", 403)
def tampered_header(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """A man in the middle gives the envelope another day to live."""
    crafted = valid(ctx)
    header = EnvelopeHeader.from_bytes(crafted.header_bytes)
    longer = dataclasses.replace(header, expires_at_ms=header.expires_at_ms + 24 * HOUR_MS)
    return retouched(crafted, header=longer.to_bytes())


@case("bad_signature", 403)
def tampered_stanza(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    stanza = envelope_pb2.SignedEnvelope.FromString(crafted.data).stanzas[0]
    return retouched(crafted, stanzas=[flip_bit(stanza)])


@case("bad_signature", 403)
def tampered_ciphertext(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    ciphertext = envelope_pb2.SignedEnvelope.FromString(crafted.data).ciphertext
    return retouched(crafted, ciphertext=flip_bit(ciphertext, len(ciphertext) // 2))


@case("bad_signature", 403)
def tampered_signature(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    signature = envelope_pb2.SignedEnvelope.FromString(crafted.data).signature
    return retouched(crafted, signature=flip_bit(signature, 0))


@case("bad_signature", 403)
def signature_missing(ctx: Ctx) -> tuple[Body, Crafted | None]:
    return retouched(valid(ctx), signature=b"")


@case("bad_signature", 403)
def peer_signs_in_another_peers_name(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Guatemala, a trusted peer, signs a header that names France as the sender."""
    crafted = valid(ctx)
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    return signed(ctx.gt, outer.header, outer.stanzas, outer.ciphertext), crafted


@case("malformed", 400)
def signed_header_that_is_not_a_header(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    return signed(ctx.fr, b"\xff" * 16, outer.stanzas, outer.ciphertext), crafted


@case("malformed", 400, names_message=True)
def more_stanzas_than_recipients(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    stanzas = [outer.stanzas[0], outer.stanzas[0]]
    return signed(ctx.fr, outer.header, stanzas, outer.ciphertext), crafted


@case("unsupported_suite", 400)
def unknown_cryptographic_suite(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    header = envelope_pb2.Header.FromString(outer.header)
    header.suite = 99  # type: ignore[assignment]
    return signed(ctx.fr, header.SerializeToString(), outer.stanzas, outer.ciphertext), crafted


@case("not_for_us", 421, names_message=True)
def addressed_to_another_node(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """A valid envelope from France to Brazil, sent (or forwarded) to Honduras."""
    crafted = seal(ctx.fr, [ctx.br_encryption], notice_from("victim-identification.toml"))
    return crafted.data, crafted


@case("not_for_us", 421, names_message=True)
def addressed_to_us_under_another_key(ctx: Ctx) -> tuple[Body, Crafted | None]:
    stale = RecipientKey(node_id=RECEIVER, encryption_key=EncryptionKeyPair.generate().public_key)
    crafted = seal(ctx.fr, [stale], transit_notice())
    return crafted.data, crafted


@case("unknown_sender", 403)
def unknown_sender_posing_as_a_peer(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Fresh keys, not in the directory, in a header that claims to be France."""
    impostor = Sender("fr-ncp", NodeKeys.generate().signing)
    crafted = seal(impostor, [ctx.receiver.key], transit_notice())
    return crafted.data, crafted


@case("unknown_sender", 403)
def unknown_sender_with_a_long_key_id(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Unauthenticated bytes: a 200-byte signer key id. Its hex once made the refusal's
    reason too long for an audit leaf, and the node answered HTTP 500."""
    crafted = valid(ctx)
    return retouched(crafted, signer_key_id=b"\x01" * 200)


@case("unknown_sop", 422, names_message=True)
def sop_id_longer_than_an_audit_reason(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Once answered with HTTP 500, like the long key id above."""
    crafted = valid(ctx, sop_id="para8-" + "x" * 300)
    return crafted.data, crafted


@case("unknown_sop", 422, names_message=True)
def sop_id_with_a_line_break(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, sop_id="para8-victim-notification\nforged log line")
    return crafted.data, crafted


@case("expired", 410, names_message=True)
def expired(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, created_at_ms=now_ms() - 2 * HOUR_MS, expires_at_ms=now_ms() - HOUR_MS)
    return crafted.data, crafted


@case("from_future", 400, names_message=True)
def created_in_the_future_beyond_skew(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, created_at_ms=now_ms() + MAX_CLOCK_SKEW_MS + 5 * 60_000)
    return crafted.data, crafted


@case("oversized", 413)
def oversized_with_content_length(ctx: Ctx) -> tuple[Body, Crafted | None]:
    return b"\0" * (MAX_ENVELOPE_BYTES + 1), None


@case("oversized", 413)
def oversized_chunked_just_over_the_limit(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """No Content-Length: the server reads it, then the size check refuses it."""
    body = valid(ctx).data
    return Chunked(body + b"\0" * (MAX_ENVELOPE_BYTES + 1 - len(body))), None


@case("oversized", 413)
def oversized_chunked_megabytes(ctx: Ctx) -> tuple[Body, Crafted | None]:
    return Chunked(b"\0" * (4 << 20)), None


@case("malformed", 400)
def not_protobuf(ctx: Ctx) -> tuple[Body, Crafted | None]:
    return b"\xff" * 64, None


@case("malformed", 400)
def truncated_envelope(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    return crafted.data[:-5], crafted


@case("bad_commitment", 400, names_message=True)
def different_content_keys_for_different_recipients(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """A malicious sender wraps the committed key for Brazil and another one for Honduras.

    Without the key commitment each recipient could be shown a different notice under one
    signature (AEAD is not key-committing); the receiver must refuse before decrypting.
    """
    crafted = seal(
        ctx.fr,
        [ctx.br_encryption, ctx.receiver.key],
        transit_notice(),
        stanza_keys={1: crypto.random_bytes(crypto.AEAD_KEY_BYTES)},
    )
    return crafted.data, crafted


@case("bad_stanza", 400, names_message=True)
def stanza_that_does_not_open(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx)
    outer = envelope_pb2.SignedEnvelope.FromString(crafted.data)
    junk = crypto.random_bytes(len(outer.stanzas[0]))
    return signed(ctx.fr, outer.header, [junk], outer.ciphertext), crafted


@case("bad_ciphertext", 400, names_message=True)
def content_bound_to_another_header(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Content encrypted for another envelope's header (surreptitious forwarding)."""
    other = valid(ctx)
    crafted = valid(ctx, aad=other.header_bytes)
    return crafted.data, crafted


@case("malformed_payload", 400, names_message=True)
def payload_that_is_not_a_notice(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, payload=b"\xff" * 32)
    return crafted.data, crafted


@case("malformed_payload", 400, names_message=True)
def payload_for_another_notice(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """The signed header names one notice, the encrypted payload another."""
    other = transit_notice()
    other.notice_id = "N-SOMETHINGELSE"
    other.sender_node_id = "fr-ncp"
    crafted = valid(ctx, payload=other.SerializeToString())
    return crafted.data, crafted


@case("unknown_sop", 422, names_message=True)
def sop_the_receiver_does_not_hold(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, sop_id="para99-no-such-procedure")
    return crafted.data, crafted


@case("unknown_sop", 422, names_message=True)
def sop_version_the_receiver_does_not_hold(ctx: Ctx) -> tuple[Body, Crafted | None]:
    crafted = valid(ctx, sop_version=2)
    return crafted.data, crafted


@case("unknown_sop", 422, names_message=True)
def sop_without_a_rule_for_the_kind(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """A victim-identification notice under the modus-operandi SOP."""
    crafted = valid(ctx, sop_id=PARA10)
    return crafted.data, crafted


@case("not_a_party", 403, names_message=True)
def sender_not_a_party_to_the_sop(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """Guatemala sends under the bilateral France-Brazil SOP, which names only those two."""
    crafted = seal(ctx.gt, [ctx.receiver.key], transit_notice(), sop_id=BILATERAL)
    return crafted.data, crafted


@case("fields_not_allowed", 422, names_message=True)
def victim_fields_to_the_transit_state(ctx: Ctx) -> tuple[Body, Crafted | None]:
    """France sends Honduras, a transit state, the whole notice with the victim's identity.
    (The reason lists 12 field paths: once too long for an audit leaf, and HTTP 500.)"""
    crafted = seal(ctx.fr, [ctx.receiver.key], notice_from("victim-identification.toml"))
    return crafted.data, crafted


@case("fields_not_allowed", 422, names_message=True)
def one_victim_field_to_the_transit_state(ctx: Ctx) -> tuple[Body, Crafted | None]:
    notice = transit_notice()
    notice.victim.age_band = notice_from("victim-identification.toml").victim.age_band
    crafted = seal(ctx.fr, [ctx.receiver.key], notice)
    return crafted.data, crafted


@case("fields_not_allowed", 422, names_message=True)
def notice_whose_case_gives_the_receiver_no_role(ctx: Ctx) -> tuple[Body, Crafted | None]:
    notice = transit_notice()
    del notice.case.transit_countries[:]
    notice.modus_operandi.ClearField("route_legs")
    crafted = seal(ctx.fr, [ctx.receiver.key], notice)
    return crafted.data, crafted


def assert_refused(
    ctx: Ctx, build: Build, code: str, expected_status: int, names_message: bool
) -> None:
    body, crafted = build(ctx)

    status, answer = post(ctx.receiver.node, body)

    rejection = open_rejection(ctx.receiver, status, answer)
    assert (rejection.code, status) == (code, expected_status), rejection.reason
    assert rejection.reason
    # It names the message only once the sender's signature vouched for the id.
    assert rejection.message_id == (crafted.message_id if names_message and crafted else b"")
    # It is bound to the bytes it refuses, so that nobody can replay it against another
    # envelope; a body refused before it was read (too large) leaves nothing to bind to.
    digest = receipts.envelope_digest(body)
    assert rejection.envelope_digest in ((b"", digest) if code == "oversized" else (digest,))
    assert_nothing_stored(ctx.receiver, *([crafted] if crafted else []))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_envelope_is_refused_with_a_signed_rejection_and_not_stored(
    ctx: Ctx, name: str
) -> None:
    assert_refused(ctx, *CASES[name])


def test_every_rejection_code_is_exercised() -> None:
    codes = {enum_name(envelope_pb2.RejectionCode, v) for v in envelope_pb2.RejectionCode.values()}
    exercised = {code for _, code, _, _ in CASES.values()} | {"revoked_key", "replayed"}
    assert exercised == codes - {"unspecified"}


def test_envelope_signed_with_a_revoked_key_is_refused(ctx: Ctx) -> None:
    before = seal(ctx.br, [ctx.receiver.key], parties_notice())
    assert post(ctx.receiver.node, before.data)[0] == 200  # Brazil's key was good until now
    ctx.receiver.stored.add(before.notice_id)
    # The operator revokes Brazil while the node runs; it must not need a restart.
    ctx.receiver.node.gateway("peer", "revoke", "br-ncp")
    crafted = seal(ctx.br, [ctx.receiver.key], parties_notice())

    status, answer = post(ctx.receiver.node, crafted.data)

    rejection = open_rejection(ctx.receiver, status, answer)
    assert (rejection.code, status) == ("revoked_key", 403), rejection.reason
    assert rejection.message_id == b""  # refused before anything it says was verified
    assert rejection.envelope_digest == receipts.envelope_digest(crafted.data)
    assert_nothing_stored(ctx.receiver, crafted)


# --- valid envelopes, twice -------------------------------------------------------------------


def test_the_same_envelope_twice_gets_byte_identical_receipts_and_is_stored_once(ctx: Ctx) -> None:
    crafted = valid(ctx)

    first = post(ctx.receiver.node, crafted.data)
    ctx.receiver.stored.add(crafted.notice_id)
    second = post(ctx.receiver.node, crafted.data)

    assert first[0] == second[0] == 200
    assert first[1] == second[1]
    receipt = receipts.open_receipt(
        first[1],
        signing_key=ctx.receiver.card.signing_key,
        message_id=crafted.message_id,
        receiver_node_id=RECEIVER,
        header_bytes=crafted.header_bytes,
    )
    assert receipt.sender_node_id == "fr-ncp"
    (row,) = inbox_rows(ctx.receiver.node, crafted.notice_id)
    assert row["message_id"] == crafted.message_id.hex()
    assert row["sender"] == "fr-ncp"
    assert row["roles"] == ["transit"]
    assert_nothing_stored(ctx.receiver)  # nothing but what the tests stored on purpose


def test_another_envelope_reusing_a_message_id_is_refused_as_replayed(ctx: Ctx) -> None:
    original = valid(ctx)
    assert post(ctx.receiver.node, original.data)[0] == 200
    ctx.receiver.stored.add(original.notice_id)
    replay = valid(ctx, message_id=original.message_id)

    status, answer = post(ctx.receiver.node, replay.data)

    rejection = open_rejection(ctx.receiver, status, answer)
    assert (rejection.code, status) == ("replayed", 409), rejection.reason
    assert rejection.message_id == original.message_id
    assert rejection.envelope_digest == receipts.envelope_digest(replay.data)
    (row,) = inbox_rows(ctx.receiver.node, original.notice_id)
    assert row["message_id"] == original.message_id.hex()
    assert_nothing_stored(ctx.receiver)  # and so not the replay's notice


def test_clock_skew_within_the_allowance_is_accepted(ctx: Ctx) -> None:
    crafted = valid(ctx, created_at_ms=now_ms() + MAX_CLOCK_SKEW_MS - 60_000)

    status, answer = post(ctx.receiver.node, crafted.data)

    assert status == 200
    ctx.receiver.stored.add(crafted.notice_id)
    receipt = receipts.open_receipt(
        answer,
        signing_key=ctx.receiver.card.signing_key,
        message_id=crafted.message_id,
        receiver_node_id=RECEIVER,
        header_bytes=crafted.header_bytes,
    )
    # The receipt is dated by the receiver's clock, behind the sender's.
    assert receipt.received_at_ms < EnvelopeHeader.from_bytes(crafted.header_bytes).created_at_ms
    assert len(inbox_rows(ctx.receiver.node, crafted.notice_id)) == 1


def test_message_ids_are_unique_per_sender_not_across_senders(ctx: Ctx) -> None:
    """UNIQUE(sender, message_id): Guatemala may draw the message id France used."""
    from_fr = valid(ctx)
    assert post(ctx.receiver.node, from_fr.data)[0] == 200
    ctx.receiver.stored.add(from_fr.notice_id)
    from_gt = seal(ctx.gt, [ctx.receiver.key], parties_notice(), message_id=from_fr.message_id)

    status, _ = post(ctx.receiver.node, from_gt.data)

    assert status == 200
    ctx.receiver.stored.add(from_gt.notice_id)
    rows = [r for r in inbox(ctx.receiver.node) if r["message_id"] == from_fr.message_id.hex()]
    assert sorted(r["sender"] for r in rows) == ["fr-ncp", "gt-ncp"]
