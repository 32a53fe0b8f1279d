"""The audit use cases: checkpoints, proofs, witnessing, cosignatures, verify and export.

It calls the pure core (gateway/core/audit_checkpoint.py, audit_verify.py, merkle.py) and the
store (gateway/store/audit_store.py) and knows no HTTP: talking to peers goes through an
`AuditPeerClient` the edge passes in (gateway/net/audit_api.py), so that `gateway serve`, the
CLI (`gateway audit witness`) and tests drive the same code.

Witnessing (DESIGN.md section 8): for each live peer, fetch its latest checkpoint, verify it
with the peer's audit key from its card, and compare it with the last one we hold
(`compare_checkpoints`): a larger one must come with a consistency proof from the peer that
verifies against both roots, after which we cosign it (C2SP tlog-cosignature, our audit key)
and post the cosignature back. Two signed checkpoints that cannot both be true (same size and
different roots, a smaller size than one already signed, or a failed consistency proof) raise
an alarm: both notes are kept as evidence, an `audit_alarm` leaf is written and the event is
logged at error level. Network failures are only errors: they prove nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from gateway.core import merkle
from gateway.core.audit import AuditLeaf, LeafError, decode_leaf
from gateway.core.audit_checkpoint import (
    WitnessStep,
    compare_checkpoints,
    cosignature_line,
    inclusion_document,
    log_signer,
    log_verifier,
    open_log_checkpoint,
    witness_cosigner,
    witness_verifier,
)
from gateway.core.audit_verify import LogSummary, StoredCheckpoint
from gateway.core.directory import Directory, PeerRecord
from gateway.core.keys import SigningKeyPair
from gateway.core.signed_note import (
    Checkpoint,
    Verifier,
    format_note,
    open_note,
)
from gateway.errors import DeliveryError, GatewayError, Malformed, PeerError
from gateway.logs import get_logger
from gateway.store.audit_store import (
    Alarm,
    AuditStore,
    LeafFilter,
    WitnessState,
    export_bundle,
    verify_database,
)

__all__ = [
    "AuditPeerClient",
    "AuditService",
    "ForeignCheckpoint",
    "UnknownCheckpoint",
    "WitnessOutcome",
]

# A cosignature may be dated this far ahead of our clock (clocks of peers drift a little).
COSIGNATURE_SKEW_S = 600
# Checkpoints from a peer's receipts checked against its witnessed log per round, newest first;
# the rest wait for the next round, so one round's work stays bounded.
RECEIPT_CHECKS_PER_ROUND = 16

log = get_logger()


class UnknownCheckpoint(PeerError):
    """A cosignature for a tree size we never signed a checkpoint for."""

    code = "unknown_checkpoint"
    status = 404


class ForeignCheckpoint(PeerError):
    """A cosignature of a checkpoint body that is not the one we signed at that size."""

    code = "foreign_checkpoint"
    status = 409


class AuditPeerClient(Protocol):
    """How the service reaches a peer's audit endpoints; raises DeliveryError if it cannot."""

    async def checkpoint(self, endpoint: str) -> bytes: ...

    async def consistency(self, endpoint: str, first: int, second: int) -> list[bytes]: ...

    async def cosign(self, endpoint: str, note: bytes) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessOutcome:
    peer: str
    result: str  # cosigned, alarm or error
    size: int | None
    detail: str


class AuditService:
    def __init__(
        self,
        *,
        node_id: str,
        audit_key: SigningKeyPair,
        store: AuditStore,
        db_path: Path,
        directory: Callable[[], Awaitable[Directory]],
        clock: Callable[[], int],
    ) -> None:
        self.node_id = node_id
        self._signer = log_signer(node_id, audit_key.seed)
        self._cosigner = witness_cosigner(node_id, audit_key.seed)
        self._store = store
        self._db_path = db_path
        self._directory = directory
        self._clock = clock
        # The latest signed checkpoint, which receipts carry; kept fresh by checkpoint_now.
        self.latest_note = b""
        self._receipt_notes: dict[str, bytes] = {}  # per peer, its last receipt's checkpoint

    @property
    def log_key(self) -> Verifier:
        return self._signer.verifier

    @property
    def witness_key(self) -> Verifier:
        return self._cosigner.verifier

    # --- our checkpoints --------------------------------------------------------------------

    async def load(self) -> None:
        latest = await self._store.latest_checkpoint()
        self.latest_note = b"" if latest is None else latest.note

    async def checkpoint_now(self) -> StoredCheckpoint | None:
        """Sign a checkpoint if the log grew since the latest one; returns the latest."""
        before = self.latest_note
        latest = await self._store.write_checkpoint(self._signer, self._clock())
        if latest is not None:
            self.latest_note = latest.note
            if latest.note != before:
                log.info("audit_checkpoint", size=latest.size)
        return latest

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self._store.latest_checkpoint()

    async def cosigned_checkpoint(self) -> tuple[StoredCheckpoint, list[str]] | None:
        """The latest checkpoint and the cosignature lines witnesses sent us for it."""
        latest = await self._store.latest_checkpoint()
        if latest is None:
            return None
        return latest, [c.line for c in await self._store.cosignatures(latest.size)]

    async def consistency(self, first: int, second: int) -> list[bytes]:
        """A consistency proof between two sizes of our log (merkle.ProofError if bad sizes)."""
        if first < 1:
            raise merkle.ProofError(
                "from must be at least 1 (a proof from the empty tree proves nothing)"
            )
        return await self._store.consistency_proof(first, second)

    async def receive_cosignature(self, body: bytes) -> list[str]:
        """A witness's cosignature of one of our checkpoints; returns the witnesses stored."""
        directory = await self._directory()
        witnesses = [
            witness_verifier(p.node_id, k.public_key)
            for p in directory.live()
            for k in p.keys
            if k.purpose == "audit" and not k.revoked
        ]
        opened = open_note(body, witnesses)  # authenticate before anything is parsed
        checkpoint = Checkpoint.parse(opened.text)
        if checkpoint.origin != self._signer.name:
            raise ForeignCheckpoint(f"checkpoint origin {checkpoint.origin!r} is not this log")
        ours = await self._store.checkpoint_at(checkpoint.size)
        if ours is None:
            raise UnknownCheckpoint(f"this log signed no checkpoint at size {checkpoint.size}")
        if open_log_checkpoint(ours.note, self.log_key) != checkpoint:
            raise ForeignCheckpoint(
                f"that is not the checkpoint this log signed at size {checkpoint.size}"
            )
        now = self._clock()
        stored = []
        for verified in opened.verified:
            assert verified.timestamp is not None
            if verified.timestamp > now // 1000 + COSIGNATURE_SKEW_S:
                raise Malformed(f"cosignature from {verified.verifier.name} is dated in the future")
            witness = verified.verifier.name.removeprefix("gateway.").removesuffix("/witness")
            (sig,) = [
                s
                for s in opened.signatures
                if (s.name, s.key_id) == (verified.verifier.name, verified.verifier.key_id)
            ]
            await self._store.add_cosignature(
                checkpoint.size, witness, cosignature_line(sig), verified.timestamp, now
            )
            log.info("audit_cosignature_received", peer=witness, size=checkpoint.size)
            stored.append(witness)
        return stored

    # --- peers' checkpoints -----------------------------------------------------------------

    async def record_receipt_checkpoint(self, peer_id: str, note: bytes) -> None:
        """Keep the checkpoint a peer's receipt carried, once its signature verifies."""
        if not note or self._receipt_notes.get(peer_id) == note:
            return  # the same checkpoint as this peer's last receipt: already kept
        peer = (await self._directory()).get(peer_id)
        key = None if peer is None else peer.current("audit")
        if key is None:
            log.warning("receipt_checkpoint_unverifiable", peer=peer_id, reason="no audit key")
            return
        try:
            checkpoint = open_log_checkpoint(note, log_verifier(peer_id, key.public_key))
        except GatewayError as exc:
            log.warning("receipt_checkpoint_invalid", peer=peer_id, reason=str(exc))
            return
        held = await self._store.record_peer_checkpoint(
            peer_id, checkpoint, note, "receipt", self._clock()
        )
        self._receipt_notes[peer_id] = note
        if held is not None:
            await self._alarm(
                peer_id, "fork", held, note, f"two checkpoints of size {checkpoint.size} differ"
            )

    async def witness_round(self, client: AuditPeerClient) -> list[WitnessOutcome]:
        """Check and cosign every live peer's latest checkpoint (one witnessing round)."""
        return [await self.witness_peer(client, p) for p in (await self._directory()).live()]

    async def witness_peer(self, client: AuditPeerClient, peer: PeerRecord) -> WitnessOutcome:
        key = peer.current("audit")
        if key is None:
            return await self._error(peer.node_id, None, "the peer's card has no audit key")
        verifier = log_verifier(peer.node_id, key.public_key)
        try:
            note = await client.checkpoint(peer.endpoint)
            new = open_log_checkpoint(note, verifier)
        except DeliveryError as exc:
            return await self._error(peer.node_id, None, str(exc))
        except GatewayError as exc:
            return await self._error(peer.node_id, None, f"bad checkpoint: {exc}")
        state = await self._store.witness_state(peer.node_id)
        held_cp = None if state is None else state.checkpoint
        held = (
            None
            if held_cp is None
            else Checkpoint(origin=verifier.name, size=held_cp.size, root_hash=held_cp.root)
        )
        step = compare_checkpoints(held, new)
        if step in (WitnessStep.FORK, WitnessStep.ROLLBACK):
            assert held_cp is not None
            return await self._alarm(
                peer.node_id,
                step.value,
                held_cp.note,
                note,
                f"held size {held_cp.size}, now offered size {new.size}",
            )
        largest = await self._store.largest_peer_checkpoint(peer.node_id)
        if largest is not None and largest.size > new.size:
            # A receipt showed us a bigger log than the peer now serves: it shrank its history.
            return await self._alarm(
                peer.node_id,
                WitnessStep.ROLLBACK.value,
                largest.note,
                note,
                f"a receipt carried size {largest.size}, now offered size {new.size}",
            )
        try:
            if step is WitnessStep.PROVE:
                assert held is not None and held_cp is not None
                failure = await self._prove(client, peer, held, new)
                if failure is not None:
                    return await self._alarm(
                        peer.node_id, "inconsistent", held_cp.note, note, failure
                    )
            for receipt_cp in await self._store.unchecked_peer_checkpoints(
                peer.node_id, new.size, RECEIPT_CHECKS_PER_ROUND
            ):
                older = Checkpoint(
                    origin=verifier.name, size=receipt_cp.size, root_hash=receipt_cp.root
                )
                failure = await self._prove(client, peer, older, new)
                if failure is not None:
                    return await self._alarm(
                        peer.node_id, "inconsistent", receipt_cp.note, note, failure
                    )
                await self._store.mark_peer_checked(peer.node_id, receipt_cp.size, self._clock())
        except DeliveryError as exc:
            return await self._error(peer.node_id, new.size, str(exc))
        except Malformed as exc:
            return await self._error(peer.node_id, new.size, f"bad consistency proof: {exc}")
        now = self._clock()
        await self._store.witnessed(peer.node_id, new, note, now, cosigned=True)
        cosigned = format_note(new.format(), [self._cosigner.cosign(new, now // 1000)])
        try:
            await client.cosign(peer.endpoint, cosigned)
        except (DeliveryError, PeerError) as exc:
            log.warning("audit_cosignature_not_delivered", peer=peer.node_id, reason=str(exc))
            return WitnessOutcome(
                peer=peer.node_id,
                result="cosigned",
                size=new.size,
                detail=f"consistent; cosignature not delivered: {exc}",
            )
        log.info("audit_witnessed", peer=peer.node_id, size=new.size, step=step.value)
        detail = {
            WitnessStep.FIRST: "first checkpoint seen (trusted on first use)",
            WitnessStep.SAME: "unchanged since the last round",
            WitnessStep.PROVE: f"consistent with size {held.size if held else 0}",
        }[step]
        return WitnessOutcome(peer=peer.node_id, result="cosigned", size=new.size, detail=detail)

    async def _prove(
        self, client: AuditPeerClient, peer: PeerRecord, old: Checkpoint, new: Checkpoint
    ) -> str | None:
        """None if the peer proves `old` a prefix of `new`, else what failed."""
        if old.size == new.size:
            return None if old.root_hash == new.root_hash else f"two roots for size {new.size}"
        if old.size == 0:
            return None
        proof = await client.consistency(peer.endpoint, old.size, new.size)
        try:
            merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
        except merkle.ProofError as exc:
            return f"size {new.size} is not consistent with size {old.size}: {exc}"
        return None

    async def _error(self, peer: str, size: int | None, detail: str) -> WitnessOutcome:
        log.warning("audit_witness_failed", peer=peer, reason=detail)
        await self._store.witness_error(peer, detail, self._clock())
        return WitnessOutcome(peer=peer, result="error", size=size, detail=detail)

    async def _alarm(
        self, peer: str, kind: str, held_note: bytes, new_note: bytes, detail: str
    ) -> WitnessOutcome:
        alarm_id = await self._store.raise_alarm(
            peer, kind, held_note, new_note, detail, self._clock()
        )
        log.error("audit_alarm", peer=peer, kind=kind, alarm_id=alarm_id, detail=detail)
        return WitnessOutcome(peer=peer, result="alarm", size=None, detail=f"{kind}: {detail}")

    async def peers(self) -> tuple[list[WitnessState], list[Alarm]]:
        return await self._store.witness_states(), await self._store.alarms()

    # --- reading and proving ----------------------------------------------------------------

    async def log(self, where: LeafFilter) -> list[tuple[int, AuditLeaf | None]]:
        """Leaves matching `where`; None for a leaf that no longer decodes (see verify)."""
        out: list[tuple[int, AuditLeaf | None]] = []
        for record in await self._store.leaves(where):
            try:
                out.append((record.seq, decode_leaf(record.leaf)))
            except LeafError:
                out.append((record.seq, None))
        return out

    async def prove(self, index: int) -> str:
        """A self-contained inclusion proof of leaf `index` in the latest checkpoint."""
        leaf, proof, checkpoint = await self._store.inclusion(index)
        return inclusion_document(
            index=index, leaf=leaf, proof=proof, checkpoint=checkpoint.note, log=self.log_key
        )

    def verify(self, on_progress: Callable[[Any], None] | None = None) -> LogSummary:
        """Check the whole log offline (blocking: run it off the event loop or from the CLI)."""
        return verify_database(self._db_path, self.log_key, on_progress=on_progress)

    def export(self, out: IO[bytes]) -> dict[str, int]:
        return dict(export_bundle(self._db_path, self.node_id, self.log_key, out))
