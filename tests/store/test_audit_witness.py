"""Witnessing between two nodes' audit services, in process: cosigning, forks, rollbacks.

Two real stores; the witness reaches the peer through a client that calls the peer's service
directly (the HTTP edge is covered by tests/e2e/test_audit.py). The peer's operator forks the
log by rewriting its tables and signing with the real audit key: its own `verify` still passes
(the forgery is self-consistent), and only the witness, which holds an older checkpoint, can
tell.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.core import merkle
from gateway.core.audit import decode_leaf, encode_leaf
from gateway.core.audit_checkpoint import log_signer, make_checkpoint, witness_cosigner
from gateway.core.directory import Directory, PeerKey, PeerRecord
from gateway.core.keys import SigningKeyPair
from gateway.core.signed_note import Checkpoint, format_note
from gateway.errors import BadSignature, UnknownSender
from gateway.service_audit import AuditService, ForeignCheckpoint, UnknownCheckpoint
from gateway.store.audit_store import AuditStore, verify_database
from gateway.store.store import Store

KEYS = {"fr-ncp": SigningKeyPair(seed=b"f" * 32), "br-ncp": SigningKeyPair(seed=b"b" * 32)}
CLOCK_MS = 1_700_000_000_000


def record(node_id: str, key: SigningKeyPair) -> PeerRecord:
    return PeerRecord(
        node_id=node_id,
        country="XX",
        name=node_id,
        endpoint=f"direct://{node_id}",
        fingerprint="fp",
        revoked=False,
        keys=(
            PeerKey(
                key_id=key.key_id,
                node_id=node_id,
                purpose="audit",
                public_key=key.public_key,
                revoked=False,
            ),
        ),
    )


@dataclass
class Node:
    node_id: str
    path: Path
    store: Store
    audit: AuditService

    async def grow(self, n: int) -> None:
        for i in range(n):
            await self.store.record_refusal(code="malformed", reason=f"r{i}", now_ms=1000 + i)
        await self.audit.checkpoint_now()


class Direct:
    """An AuditPeerClient that calls the peer's service in process."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes

    def _peer(self, endpoint: str) -> AuditService:
        return self.nodes[endpoint.removeprefix("direct://")].audit

    async def checkpoint(self, endpoint: str) -> bytes:
        latest = await self._peer(endpoint).latest_checkpoint()
        assert latest is not None
        return latest.note

    async def consistency(self, endpoint: str, first: int, second: int) -> list[bytes]:
        return await self._peer(endpoint).consistency(first, second)

    async def cosign(self, endpoint: str, note: bytes) -> None:
        await self._peer(endpoint).receive_cosignature(note)


async def open_node(tmp: Path, node_id: str) -> Node:
    path = tmp / f"{node_id}.db"
    store = await Store.open(path, b"k" * 32)
    others = [record(n, k) for n, k in KEYS.items() if n != node_id]

    async def directory() -> Directory:
        return Directory.of(others)

    audit = AuditService(
        node_id=node_id,
        audit_key=KEYS[node_id],
        store=AuditStore(store.db, store.audit),
        db_path=path,
        directory=directory,
        clock=lambda: CLOCK_MS,
    )
    return Node(node_id, path, store, audit)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[dict[str, Node]]:
    made = {n: await open_node(tmp_path, n) for n in KEYS}
    await made["br-ncp"].grow(5)
    yield made
    for node in made.values():
        await node.store.close()


def fork(node: Node, *, extra: int) -> None:
    fork_log(node.path, node.node_id, KEYS[node.node_id].seed, extra=extra)


def fork_log(path: Path, node_id: str, seed: bytes, *, extra: int) -> None:
    """The node's operator changes leaf 1 (or 0), recomputes every hash and node, appends `extra`
    leaves and signs a checkpoint of the forged log with the real audit key (also used by
    tests/e2e/test_audit.py)."""
    with sqlite3.connect(path) as conn:
        stored = [bytes(r[0]) for r in conn.execute("SELECT leaf FROM audit_leaves ORDER BY seq")]
        leaves = [decode_leaf(leaf) for leaf in stored]
        changed = min(1, len(leaves) - 1)
        leaves[changed] = dataclasses.replace(leaves[changed], time_ms=leaves[changed].time_ms + 1)
        leaves += [dataclasses.replace(leaves[-1], seq=len(stored) + i) for i in range(extra)]
        data = [encode_leaf(leaf) for leaf in leaves]
        hashes = [merkle.leaf_hash(d) for d in data]
        for table in ("audit_leaves", "audit_nodes", "audit_checkpoints", "audit_cosignatures"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany(
            "INSERT INTO audit_leaves (seq, time_ms, actor, action, notice_id, message_id, peer,"
            " outcome, leaf, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    *(d.seq, d.time_ms, d.actor, d.action, d.notice_id, d.message_id),
                    *(d.peer, d.outcome, raw, h),
                )
                for d, raw, h in zip(leaves, data, hashes, strict=True)
            ],
        )
        _, completed = merkle.CompactRange().append(hashes)
        conn.executemany(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(n.level, n.index, h) for n, h in completed],
        )
        size, root = len(hashes), merkle.root_from_leaf_hashes(hashes)
        note = make_checkpoint(log_signer(node_id, seed), size, root)
        conn.execute(
            "INSERT INTO audit_checkpoints (size, root, note, created_at_ms) VALUES (?, ?, ?, 0)",
            (size, root, note),
        )


async def test_a_witness_cosigns_and_the_peer_keeps_the_cosignature(
    nodes: dict[str, Node],
) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert (outcome.peer, outcome.result, outcome.size) == ("br-ncp", "cosigned", 5)
    found = await br.audit.cosigned_checkpoint()
    assert found is not None and len(found[1]) == 1
    assert found[1][0].startswith("\u2014 gateway.fr-ncp/witness ")

    await br.grow(6)
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert (outcome.result, outcome.size, outcome.detail) == (
        "cosigned",
        11,
        "consistent with size 5",
    )
    # br's own offline verification checks both cosignatures against fr's witness key.
    with sqlite3.connect(br.path) as conn:
        conn.execute(
            "INSERT INTO peers (node_id, country, name, endpoint, card, fingerprint, added_at_ms)"
            " VALUES ('fr-ncp', 'FR', 'fr', 'direct://fr-ncp', x'00', 'fp', 0)"
        )
        conn.execute(
            "INSERT INTO peer_keys (key_id, node_id, purpose, public_key, added_at_ms)"
            " VALUES (?, 'fr-ncp', 'audit', ?, 0)",
            (KEYS["fr-ncp"].key_id, KEYS["fr-ncp"].public_key),
        )
    await br.store.close()
    await fr.store.close()
    summary = verify_database(br.path, br.audit.log_key)
    assert (summary.cosignatures, summary.witnesses) == (2, ("fr-ncp",))
    nodes.clear()


@pytest.mark.parametrize(("extra", "kind"), [(3, "inconsistent"), (0, "fork")])
async def test_a_peer_serving_a_forked_log_raises_an_alarm(
    nodes: dict[str, Node], extra: int, kind: str
) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    await fr.audit.witness_round(Direct(nodes))
    fork(br, extra=extra)
    # The forgery is self-consistent: the peer's own verify cannot see it.
    assert verify_database(br.path, br.audit.log_key).size == 5 + extra
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert outcome.result == "alarm" and outcome.detail.startswith(kind)
    states, alarms = await fr.audit.peers()
    assert [(a.peer, a.kind) for a in alarms] == [("br-ncp", kind)]
    assert alarms[0].held_note != alarms[0].new_note
    assert states[0].last_error is not None and "ALARM" in states[0].last_error
    actions = [leaf.action for _, leaf in await fr.audit.log(_all()) if leaf is not None]
    assert actions[-1] == "audit_alarm"


async def test_a_peer_rolling_back_raises_an_alarm(nodes: dict[str, Node]) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    await br.grow(3)
    await fr.audit.witness_round(Direct(nodes))
    with sqlite3.connect(br.path) as conn:
        conn.execute("DELETE FROM audit_checkpoints WHERE size = 8")
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert outcome.result == "alarm" and outcome.detail.startswith("rollback")


async def test_a_checkpoint_signed_with_another_key_is_an_error_not_an_alarm(
    nodes: dict[str, Node],
) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    with sqlite3.connect(br.path) as conn:
        conn.execute(
            "UPDATE audit_checkpoints SET note = ?",
            (make_checkpoint(log_signer("br-ncp", b"m" * 32), 5, b"r" * 32),),
        )
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert outcome.result == "error" and "bad checkpoint" in outcome.detail
    assert (await fr.audit.peers())[1] == []


async def test_receipt_checkpoints_are_kept_and_two_views_of_one_size_raise_an_alarm(
    nodes: dict[str, Node],
) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    note = br.audit.latest_note
    await fr.audit.record_receipt_checkpoint("br-ncp", note)
    await fr.audit.record_receipt_checkpoint(
        "br-ncp", make_checkpoint(log_signer("br-ncp", b"m" * 32), 5, b"r" * 32)
    )
    assert (await fr.audit.peers())[1] == []  # a wrong key proves nothing: ignored
    other = make_checkpoint(log_signer("br-ncp", KEYS["br-ncp"].seed), 5, b"r" * 32)
    await fr.audit.record_receipt_checkpoint("br-ncp", other)
    assert [a.kind for a in (await fr.audit.peers())[1]] == ["fork"]
    # The next witnessing round also checks receipt checkpoints against the witnessed log.
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert outcome.result == "cosigned"


async def test_a_peer_serving_less_than_its_receipts_showed_raises_a_rollback_alarm(
    nodes: dict[str, Node],
) -> None:
    fr, br = nodes["fr-ncp"], nodes["br-ncp"]
    served = await br.audit.latest_checkpoint()
    assert served is not None
    # A receipt once carried a bigger log, signed with Brazil's real audit key...
    bigger = make_checkpoint(log_signer("br-ncp", KEYS["br-ncp"].seed), served.size + 4, b"r" * 32)
    await fr.audit.record_receipt_checkpoint("br-ncp", bigger)
    # ...and Brazil now serves a smaller one: its history shrank.
    (outcome,) = await fr.audit.witness_round(Direct(nodes))
    assert outcome.result == "alarm"
    assert [a.kind for a in (await fr.audit.peers())[1]] == ["rollback"]


async def test_forged_cosignatures_are_refused(nodes: dict[str, Node]) -> None:
    br = nodes["br-ncp"]
    latest = await br.audit.latest_checkpoint()
    assert latest is not None
    body = Checkpoint.parse(latest.note.decode().split("\n\n")[0] + "\n")
    stranger = witness_cosigner("fr-ncp", b"m" * 32)
    with pytest.raises(UnknownSender):
        await br.audit.receive_cosignature(format_note(body.format(), [stranger.cosign(body, 1)]))
    witness = witness_cosigner("fr-ncp", KEYS["fr-ncp"].seed)
    elsewhere = Checkpoint(origin=body.origin, size=6, root_hash=body.root_hash)
    with pytest.raises(BadSignature):  # a real cosignature, of another checkpoint
        await br.audit.receive_cosignature(
            format_note(body.format(), [witness.cosign(elsewhere, 1)])
        )
    other_root = Checkpoint(origin=body.origin, size=5, root_hash=b"r" * 32)
    with pytest.raises(ForeignCheckpoint):
        await br.audit.receive_cosignature(
            format_note(other_root.format(), [witness.cosign(other_root, 1)])
        )
    unknown = Checkpoint(origin=body.origin, size=4, root_hash=b"r" * 32)
    with pytest.raises(UnknownCheckpoint):
        await br.audit.receive_cosignature(
            format_note(unknown.format(), [witness.cosign(unknown, 1)])
        )


def _all():  # type: ignore[no-untyped-def]
    from gateway.store.audit_store import LeafFilter

    return LeafFilter()
