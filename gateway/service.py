"""The node's use cases: send, receive, deliver, and the operator's peer and inbox actions.

It calls the pure core and the store and knows no HTTP: gateway/net and the CLI stay thin and
call it. Time comes from an injectable clock (milliseconds), so tests control it. Drafting,
approval, dispatch, acknowledgement, deadlines and retention are in gateway/service_lifecycle.py
(a mixin of NodeService, for size).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Set
from typing import TYPE_CHECKING, Any

from gateway._pb.gateway.v1 import notice_pb2
from gateway.config import Config
from gateway.core import envelope, receipts
from gateway.core import notice as notices
from gateway.core import sop as sops
from gateway.core.amend import apply_correction
from gateway.core.card import NodeCard, open_card
from gateway.core.directory import Directory
from gateway.core.keys import fingerprints_match
from gateway.errors import (
    BadReceipt,
    ConfigError,
    FieldsNotAllowed,
    MalformedPayload,
    NotAParty,
    Oversized,
    PeerError,
    Replayed,
    UnknownSop,
)
from gateway.logs import get_logger
from gateway.service_lifecycle import DraftResult, LifecycleService, SendResult
from gateway.store.keyfiles import KeyMaterial
from gateway.store.store import (
    InboxEntry,
    NewInboxRow,
    NoticeRow,
    OutboxItem,
    RecipientState,
    Store,
)

__all__ = ["DraftResult", "NodeService", "SendResult", "system_clock_ms"]

# Backoff between delivery attempts: 0.5 s doubling to 5 minutes, each delay drawn from
# [half, full] ("equal jitter") so that many senders retrying one peer spread out.
RETRY_BASE_MS = 500
RETRY_CAP_MS = 5 * 60 * 1000
# Rejections a peer may take back without anything changing on our side: the peer has not yet
# imported our card, or our clocks disagree. Anything else is final.
RETRYABLE_REJECTIONS = frozenset({"unknown_sender", "from_future"})
# How stale the directory may be on the sending side (see NodeService.directory).
SENDER_DIRECTORY_MAX_AGE_MS = 1000

if TYPE_CHECKING:
    from gateway.service_audit import AuditService

log = get_logger()


def system_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NodeService(LifecycleService):
    def __init__(
        self,
        *,
        config: Config,
        keys: KeyMaterial,
        store: Store,
        sop_set: sops.SopSet,
        card_bytes: bytes,
        clock: Callable[[], int] = system_clock_ms,
    ) -> None:
        self.config = config
        self.node_id = config.node_id
        self.card_bytes = card_bytes
        self.sops = sop_set
        self._keys = keys
        self._store = store
        self._clock = clock
        self._directory_version = -1
        self._directory_checked_ms = 0
        self._directory = Directory.of(())
        # Hooks for the edges: wake the delivery workers; observe deliveries (benchmarks, alerts).
        self.on_outbox: Callable[[list[OutboxItem]], None] = lambda items: None
        self.on_delivered: Callable[[OutboxItem, receipts.Receipt], None] = lambda i, r: None
        self.on_deadlines: Callable[[], None] = lambda: None
        # The audit use cases (gateway/service_audit.py), attached by gateway.node.open_node:
        # receipts carry its latest checkpoint; peers' receipts' checkpoints are kept there.
        self.audit: AuditService | None = None

    # --- directory --------------------------------------------------------------------------

    async def directory(self, *, max_age_ms: int = 0) -> Directory:
        """The current directory; reloaded when an operator changed it (maybe from the CLI).

        Checking for a change costs a database read. Receiving checks on every envelope, so a
        revocation applies to the very next one; the sending side may reuse a check up to
        `max_age_ms` old (a peer revoked a moment ago may still get an envelope we queued).
        """
        now = self._clock()
        if max_age_ms <= 0 or now - self._directory_checked_ms > max_age_ms:
            version = self._store.directory_version()
            self._directory_checked_ms = now
            if version != self._directory_version:
                self._directory_version, self._directory = await self._store.load_directory()
        return self._directory

    async def add_peer(self, card_bytes: bytes, expected_fingerprint: str, source: str) -> NodeCard:
        card = open_card(card_bytes, source=source)
        if not fingerprints_match(expected_fingerprint, card.fingerprint):
            raise ConfigError(
                f"{source}: fingerprint mismatch: the card says {card.fingerprint}, you were"
                f" given {expected_fingerprint}. Do not add this peer; check with its operator."
            )
        if card.node_id == self.node_id:
            raise ConfigError(f"{source}: this is our own card")
        await self._store.add_peer(card, card_bytes, self._clock())
        log.info("peer_added", peer=card.node_id, fingerprint=card.fingerprint)
        return card

    async def revoke(self, node_or_key: str) -> str:
        what = await self._store.revoke(node_or_key, self._clock())
        log.warning("peer_revoked", ref=node_or_key)
        return what

    async def peer_endpoint(self, node_id: str) -> str | None:
        peer = (await self.directory(max_age_ms=SENDER_DIRECTORY_MAX_AGE_MS)).get(node_id)
        return None if peer is None or peer.revoked else peer.endpoint

    # --- sending (drafting, approval and dispatch: gateway/service_lifecycle.py) -------------

    async def status(self, notice_id: str) -> tuple[NoticeRow, list[RecipientState]]:
        return await self._store.notice(notice_id)

    async def export(self, message_id_hex: str) -> bytes:
        try:
            message_id = bytes.fromhex(message_id_hex)
        except ValueError:
            raise ConfigError(f"{message_id_hex!r} is not a hex message id") from None
        return await self._store.outbox_envelope(message_id)

    # --- delivery outcomes (called by gateway.net.delivery) ----------------------------------

    async def due_outbox(
        self, limit: int, skip: Set[tuple[bytes, str]] = frozenset()
    ) -> list[OutboxItem]:
        return await self._store.due_outbox(self._clock(), limit, skip)

    async def record_receipt(self, item: OutboxItem, body: bytes) -> None:
        directory = await self.directory(max_age_ms=SENDER_DIRECTORY_MAX_AGE_MS)
        try:
            signer = receipts.receipt_signer(body)
            receipt = receipts.open_receipt(
                body,
                signing_key=directory.signing_key(item.peer, signer),
                message_id=item.message_id,
                receiver_node_id=item.peer,
                header_bytes=item.header,
            )
        except (BadReceipt, PeerError) as exc:
            await self.record_failure(item, f"bad receipt: {exc}")
            return
        await self._store.mark_delivered(
            item.message_id, item.peer, body, receipt.received_at_ms, self._clock()
        )
        self.on_delivered(item, receipt)
        if self.audit is not None:
            await self.audit.record_receipt_checkpoint(item.peer, receipt.audit_checkpoint)
        log.info("envelope_delivered", message_id=item.message_id.hex(), peer=item.peer)

    async def record_rejection(self, item: OutboxItem, body: bytes) -> None:
        directory = await self.directory()
        try:
            rejection = receipts.open_rejection(
                body,
                signing_key=directory.signing_key(item.peer, receipts.rejection_signer(body)),
                rejecter_node_id=item.peer,
            )
        except (BadReceipt, PeerError) as exc:
            await self.record_failure(item, f"unverifiable rejection: {exc}")
            return
        if not receipts.rejects(rejection, item.envelope):
            # Signed by the peer, but not about this envelope (or about bytes it did not read):
            # it proves nothing about this delivery, so keep trying until it expires.
            await self.record_failure(item, f"unbound rejection ({rejection.code})")
            return
        error = f"rejected: {rejection.code}: {rejection.reason}"
        log.warning(
            "envelope_rejected_by_peer",
            message_id=item.message_id.hex(),
            peer=item.peer,
            code=rejection.code,
        )
        if rejection.code in RETRYABLE_REJECTIONS:
            await self.record_failure(item, error)
        else:
            await self._store.mark_final(
                item.message_id, item.peer, "rejected", error, rejection.code, self._clock()
            )

    async def record_failure(self, item: OutboxItem, error: str) -> None:
        now = self._clock()
        ceiling = min(RETRY_CAP_MS, RETRY_BASE_MS << min(item.attempts, 20))
        next_attempt = now + random.randint(ceiling // 2, ceiling)
        if next_attempt >= item.expires_at_ms:
            await self._store.mark_final(
                item.message_id, item.peer, "expired", error, "expired", now
            )
            log.warning("envelope_expired", message_id=item.message_id.hex(), peer=item.peer)
        else:
            await self._store.mark_retry(item.message_id, item.peer, next_attempt, error)
            log.info(
                "delivery_retry",
                message_id=item.message_id.hex(),
                peer=item.peer,
                attempts=item.attempts + 1,
                error=error,
            )

    # --- receiving --------------------------------------------------------------------------

    async def reject_oversized(self, size: int | None) -> tuple[int, bytes]:
        err = Oversized(f"envelope is larger than {envelope.MAX_ENVELOPE_BYTES} bytes")
        return await self._rejection(err, size=size)

    async def receive(self, data: bytes) -> tuple[int, bytes]:
        """Verify, decrypt and store one envelope; returns (HTTP status, signed answer)."""
        now = self._clock()
        directory = await self.directory()
        try:
            opened = envelope.open_envelope(
                data,
                node_id=self.node_id,
                encryption=self._keys.node.encryption,
                directory=directory,
                now_ms=now,
                check_header=self._check_header,
                check_payload=self._check_payload,
            )
            header = opened.header
            notice, roles = opened.notice
            digest = receipts.header_digest(opened.header_bytes)
            receipt = receipts.make_receipt(
                receipts.Receipt(
                    message_id=header.message_id,
                    sender_node_id=header.sender_node_id,
                    receiver_node_id=self.node_id,
                    received_at_ms=now,
                    header_digest=digest,
                    audit_checkpoint=b"" if self.audit is None else self.audit.latest_note,
                ),
                self._keys.node.signing,
            )
            is_new, answer = await self._accept(
                NewInboxRow(
                    sender=header.sender_node_id,
                    message_id=header.message_id,
                    notice_id=header.notice_id,
                    kind=header.kind,
                    sop_id=header.sop_id,
                    sop_version=header.sop_version,
                    roles=",".join(roles),
                    header=opened.header_bytes,
                    header_digest=digest,
                    received_at_ms=now,
                    receipt=receipt,
                    payload=opened.payload,
                    **self._follow_up(header, notice, now),
                )
            )
        except PeerError as err:
            return await self._rejection(err, size=len(data), refused=data)
        log.info(
            "envelope_received" if is_new else "envelope_duplicate",
            message_id=header.message_id.hex(),
            peer=header.sender_node_id,
            notice_id=header.notice_id,
        )
        return 200, answer

    def _follow_up(
        self, header: envelope.EnvelopeHeader, notice: notice_pb2.Notice, now: int
    ) -> dict[str, Any]:
        """What storing this notice also does: its retention, and its effect on the notice it
        refers to (an acknowledgement of ours; a correction or withdrawal of one we hold)."""
        rule = self.sops.get(header.sop_id, header.sop_version).rule_for(header.kind)
        assert rule is not None  # _check_header refused any kind the SOP has no rule for
        effects: dict[str, Any] = {
            "retention_until_ms": now + int(rule.retention.total_seconds() * 1000)
        }
        if header.kind in ("acknowledgement", "joint_investigation_response"):
            effects["related_notice_id"] = notice.response.related_notice_id
        elif header.kind in ("correction", "withdrawal"):
            effects["related_notice_id"] = notice.amendment.related_notice_id
            if header.kind == "correction":

                def amend(original: bytes) -> bytes:
                    corrected = apply_correction(notices.decode_notice(original), notice)
                    return corrected.SerializeToString()

                effects["amend"] = amend
        return effects

    async def _accept(self, row: NewInboxRow) -> tuple[bool, bytes]:
        try:
            return await self._store.accept(row)
        except Replayed as err:
            err.sender, err.message_id = row.sender, row.message_id
            raise

    async def import_envelope(self, data: bytes) -> None:
        """Offline transfer: the same checks as the peer endpoint; raises on rejection."""
        status, answer = await self.receive(data)
        if status != 200:
            rejection = receipts.open_rejection(
                answer,
                signing_key=self._keys.node.signing.public_key,
                rejecter_node_id=self.node_id,
            )
            raise ConfigError(f"envelope refused: {rejection.code}: {rejection.reason}")

    def _check_header(self, header: envelope.EnvelopeHeader) -> None:
        sop = self.sops.get(header.sop_id, header.sop_version)  # UnknownSop if we lack it
        if not sop.is_party(header.sender_node_id):
            raise NotAParty(f"{header.sender_node_id} is not a party to SOP {header.sop_id}")
        if sop.rule_for(header.kind) is None:
            raise UnknownSop(f"SOP {header.sop_id} has no rule for {header.kind} notices")

    def _check_payload(
        self, header: envelope.EnvelopeHeader, payload: bytes
    ) -> tuple[notice_pb2.Notice, tuple[str, ...]]:
        notice = notices.decode_notice(payload)
        notices.validate_notice(notice)
        if (
            notice.notice_id != header.notice_id
            or notice.sender_node_id != header.sender_node_id
            or notices.kind_name(notice.kind) != header.kind
            or notice.sop_id != header.sop_id
            or notice.sop_version != header.sop_version
        ):
            raise MalformedPayload("the notice does not match its envelope header")
        sop = self.sops.get(header.sop_id, header.sop_version)
        roles = set(sops.role_of(self.config.country, notices.routing(notice)))
        if sop.is_party(self.node_id):
            roles.add("parties")
        # A reply to a notice we sent, from a node we sent it to: we hold the `sender` role.
        related = notice.response.related_notice_id
        if (
            header.kind in sops.REPLY_KINDS
            and related
            and self._store.is_recipient(related, header.sender_node_id)
        ):
            roles.add("sender")
        view = sops.allowed_view(sop, header.kind, roles)
        if not view:
            raise FieldsNotAllowed(f"the SOP gives {self.node_id} no role in this notice")
        sops.check_fields(view, notices.present_fields(notice))
        granted = tuple(r for r in sops.ROLES if r in roles and _rule_sends_to(sop, header.kind, r))
        return notice, granted

    async def _rejection(
        self, err: PeerError, *, size: int | None, refused: bytes | None = None
    ) -> tuple[int, bytes]:
        """Refuse an envelope: an audit leaf and a signed rejection, and nothing else stored."""
        now = self._clock()
        log.warning(
            "envelope_refused",
            code=err.code,
            reason=str(err),
            size=size,
            peer=err.sender,
            message_id=err.message_id.hex(),
        )
        await self._store.record_refusal(
            code=err.code,
            reason=str(err),
            now_ms=now,
            sender=err.sender,
            message_id=err.message_id,
        )
        body = receipts.make_rejection(
            receipts.Rejection(
                message_id=err.message_id,
                rejecter_node_id=self.node_id,
                code=err.code,
                reason=str(err),
                rejected_at_ms=now,
                envelope_digest=b"" if refused is None else receipts.envelope_digest(refused),
            ),
            self._keys.node.signing,
        )
        return err.status, body

    # --- inbox ------------------------------------------------------------------------------

    async def inbox(self, limit: int = 100) -> list[InboxEntry]:
        return await self._store.inbox(limit)

    async def show(
        self, ref: str, *, actor: str = "operator"
    ) -> tuple[InboxEntry, dict[str, object] | None]:
        """Decrypt a received notice for `actor`; the opening is audited."""
        entry, payload = await self._store.inbox_item(ref, actor=actor, now_ms=self._clock())
        if payload is None:
            return entry, None
        return entry, notices.notice_to_document(notices.decode_notice(payload))


def _rule_sends_to(sop: sops.Sop, kind: str, role: str) -> bool:
    rule = sop.rule_for(kind)
    return rule is not None and role in rule.to
