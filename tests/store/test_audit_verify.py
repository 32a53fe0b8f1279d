"""`gateway audit verify` on a real store: every kind of tampering is named by its index.

Each test builds a small log through the real store (leaves appended by store transactions,
checkpoints signed by the audit service), closes it, edits the SQLite file directly as an
attacker with database access would, and checks that verification fails at the right place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.core import merkle
from gateway.core.audit import decode_leaf, encode_leaf
from gateway.core.audit_checkpoint import (
    AuditFailure,
    log_signer,
    log_verifier,
    make_checkpoint,
    open_inclusion_document,
    witness_cosigner,
)
from gateway.core.audit_verify import verify_bundle
from gateway.core.directory import Directory
from gateway.core.keys import SigningKeyPair
from gateway.core.signed_note import Checkpoint, Verifier
from gateway.service_audit import AuditService
from gateway.store.audit_store import AuditStore, export_bundle, verify_database
from gateway.store.store import Store

NODE = "fr-ncp"
AUDIT_KEY = SigningKeyPair(seed=b"a" * 32)
LOG_KEY = log_verifier(NODE, AUDIT_KEY.public_key)
CHECKPOINTS = (10, 25, 40)


@dataclass
class Log:
    path: Path

    def sql(self, statement: str, *args: object) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(statement, args)

    def leaf(self, seq: int) -> bytes:
        with sqlite3.connect(self.path) as conn:
            return bytes(
                conn.execute("SELECT leaf FROM audit_leaves WHERE seq = ?", (seq,)).fetchone()[0]
            )

    def verify(self) -> object:
        return verify_database(self.path, LOG_KEY)

    def fails(self, *, index: int | None = None, checkpoint: int | None = None) -> str:
        with pytest.raises(AuditFailure) as info:
            self.verify()
        assert info.value.index == index, str(info.value)
        assert info.value.checkpoint == checkpoint, str(info.value)
        return str(info.value)


async def audit_service(
    store: Store, path: Path, directory: Directory | None = None
) -> AuditService:
    async def get_directory() -> Directory:
        return directory or Directory.of(())

    return AuditService(
        node_id=NODE,
        audit_key=AUDIT_KEY,
        store=AuditStore(store.db, store.audit),
        db_path=path,
        directory=get_directory,
        clock=lambda: 1_700_000_000_000,
    )


async def build_log(path: Path, size: int = 40, checkpoints: tuple[int, ...] = CHECKPOINTS) -> None:
    store = await Store.open(path, b"k" * 32)
    try:
        audit = await audit_service(store, path)
        for i in range(size):
            await store.record_refusal(code="malformed", reason=f"test {i}", now_ms=1000 + i)
            if i + 1 in checkpoints:
                assert (await audit.checkpoint_now()) is not None
    finally:
        await store.close()


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[Log]:
    path = tmp_path / "gateway.db"
    await build_log(path)
    yield Log(path)


def rebuild_nodes(log: Log) -> None:
    """What a careful attacker does after editing leaves: recompute every hash and node."""
    with sqlite3.connect(log.path) as conn:
        leaves = [bytes(r[0]) for r in conn.execute("SELECT leaf FROM audit_leaves ORDER BY seq")]
        conn.execute("DELETE FROM audit_nodes")
        hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
        for seq, h in enumerate(hashes):
            conn.execute("UPDATE audit_leaves SET leaf_hash = ? WHERE seq = ?", (h, seq))
        _, completed = merkle.CompactRange().append(hashes)
        conn.executemany(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(n.level, n.index, h) for n, h in completed],
        )


def edited(leaf: bytes, **changes: object) -> bytes:
    fields = json.loads(leaf)
    fields.update(changes)
    return encode_leaf(
        decode_leaf(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    )


async def test_an_untouched_log_verifies(log: Log) -> None:
    summary = verify_database(log.path, LOG_KEY)
    assert (summary.size, summary.checkpoints, summary.latest_checkpoint) == (40, 3, 40)
    assert summary.uncovered == 0


async def test_an_edited_leaf_is_named(log: Log) -> None:
    log.sql("UPDATE audit_leaves SET leaf = ? WHERE seq = 7", edited(log.leaf(7), actor="mallory"))
    assert "leaf 7" in log.fails(index=7)


async def test_an_edited_leaf_with_its_hash_is_caught_by_its_node(log: Log) -> None:
    forged = edited(log.leaf(7), reason="changed")
    log.sql(
        "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 7",
        forged,
        merkle.leaf_hash(forged),
    )
    assert "stored tree node" in log.fails(index=7)


async def test_a_rewrite_with_every_node_recomputed_is_caught_by_the_checkpoint(log: Log) -> None:
    log.sql("UPDATE audit_leaves SET leaf = ? WHERE seq = 12", edited(log.leaf(12), peer="xx-ncp"))
    log.sql("UPDATE audit_leaves SET peer = 'xx-ncp' WHERE seq = 12")
    rebuild_nodes(log)
    message = log.fails(index=10, checkpoint=25)
    assert "checkpoint at size 25" in message and "10..24" in message


async def test_an_edited_column_is_named(log: Log) -> None:
    log.sql("UPDATE audit_leaves SET action = 'notice_opened' WHERE seq = 3")
    assert "column action" in log.fails(index=3)


async def test_a_deleted_row_is_named(log: Log) -> None:
    log.sql("DELETE FROM audit_leaves WHERE seq = 12")
    assert "leaf 12 is missing" in log.fails(index=12)


async def test_reordered_rows_are_named(log: Log) -> None:
    a, b = log.leaf(3), log.leaf(4)
    log.sql("UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 3", b, merkle.leaf_hash(b))
    log.sql("UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 4", a, merkle.leaf_hash(a))
    assert "holds entry 4" in log.fails(index=3)


async def test_a_row_inserted_in_the_middle_is_named(log: Log) -> None:
    with sqlite3.connect(log.path) as conn:
        for seq in range(39, 4, -1):  # shift leaves 5.. up by one, from the end
            conn.execute("UPDATE audit_leaves SET seq = seq + 1 WHERE seq = ?", (seq,))
    forged = edited(log.leaf(4), seq=5, reason="inserted")
    log.sql(
        "INSERT INTO audit_leaves (seq, time_ms, actor, action, notice_id, message_id, peer,"
        " outcome, leaf, leaf_hash) SELECT 5, time_ms, actor, action, notice_id, message_id,"
        " peer, outcome, ?, ? FROM audit_leaves WHERE seq = 4",
        forged,
        merkle.leaf_hash(forged),
    )
    assert "leaf 5" in log.fails(index=5)


async def test_a_row_appended_without_its_nodes_is_named(log: Log) -> None:
    forged = edited(log.leaf(39), seq=40)
    log.sql(
        "INSERT INTO audit_leaves (seq, time_ms, actor, action, notice_id, message_id, peer,"
        " outcome, leaf, leaf_hash) SELECT 40, time_ms, actor, action, notice_id, message_id,"
        " peer, outcome, ?, ? FROM audit_leaves WHERE seq = 39",
        forged,
        merkle.leaf_hash(forged),
    )
    assert "missing" in log.fails(index=40)


async def test_truncated_leaves_are_caught_by_the_last_checkpoint(log: Log) -> None:
    log.sql("DELETE FROM audit_leaves WHERE seq >= 30")
    log.sql("DELETE FROM audit_nodes WHERE (idx + 1) << level > 30")
    assert "covers more leaves" in log.fails(index=30, checkpoint=40)


async def test_a_truncated_database_file_fails_plainly(log: Log) -> None:
    data = log.path.read_bytes()
    log.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AuditFailure, match=r"damaged|cannot read"):
        log.verify()


async def test_a_deleted_node_is_named(log: Log) -> None:
    log.sql("DELETE FROM audit_nodes WHERE level = 2 AND idx = 3")
    assert "level 2 index 3" in log.fails(index=12)


@pytest.mark.parametrize(
    ("forge", "size", "message"),
    [
        ("wrong_key", 30, "checkpoint at size 30"),
        ("wrong_root", 30, "is not the root"),
        ("wrong_size", 50, "covers more leaves"),
        ("mislabelled", 30, "signed for size"),
    ],
)
async def test_forged_checkpoints_are_named(log: Log, forge: str, size: int, message: str) -> None:
    with sqlite3.connect(log.path) as conn:
        hashes = [
            bytes(r[0]) for r in conn.execute("SELECT leaf_hash FROM audit_leaves ORDER BY seq")
        ]
    root = merkle.root_from_leaf_hashes(hashes[:size]) if size <= 40 else b"r" * 32
    signer = log_signer(NODE, AUDIT_KEY.seed)
    if forge == "wrong_key":
        signer = log_signer(NODE, b"m" * 32)
    elif forge == "wrong_root":
        root = b"x" * 32
    note = make_checkpoint(signer, 31 if forge == "mislabelled" else size, root)
    log.sql(
        "INSERT INTO audit_checkpoints (size, root, note, created_at_ms) VALUES (?, ?, ?, 0)",
        size,
        root,
        note,
    )
    with pytest.raises(AuditFailure, match=message) as info:
        log.verify()
    assert info.value.checkpoint == size


async def test_consistency_proofs_between_all_sizes_verify(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    await build_log(path, size=21, checkpoints=())
    store = await Store.open(path, b"k" * 32)
    try:
        audit = AuditStore(store.db, store.audit)
        with sqlite3.connect(path) as conn:
            hashes = [
                bytes(r[0]) for r in conn.execute("SELECT leaf_hash FROM audit_leaves ORDER BY seq")
            ]
        for first in range(1, 22):
            for second in range(first, 22):
                proof = await audit.consistency_proof(first, second)
                merkle.verify_consistency(
                    first,
                    second,
                    proof,
                    merkle.root_from_leaf_hashes(hashes[:first]),
                    merkle.root_from_leaf_hashes(hashes[:second]),
                )
        with pytest.raises(merkle.ProofError, match="larger than"):
            await audit.consistency_proof(5, 4)
        with pytest.raises(merkle.ProofError, match="beyond the tree size"):
            await audit.consistency_proof(5, 22)
    finally:
        await store.close()


async def test_an_inclusion_proof_checks_offline_and_a_tampered_one_does_not(log: Log) -> None:
    store = await Store.open(log.path, b"k" * 32)
    try:
        document = await (await audit_service(store, log.path)).prove(17)
    finally:
        await store.close()
    leaf, checkpoint, _ = open_inclusion_document(document, LOG_KEY)
    assert (leaf.seq, checkpoint.size) == (17, 40)
    doc = json.loads(document)
    doc["leaf"] = doc["leaf"].replace("test 17", "test 18")
    with pytest.raises(AuditFailure, match="does not verify"):
        open_inclusion_document(json.dumps(doc), LOG_KEY)
    with pytest.raises(AuditFailure, match="not the one given"):
        open_inclusion_document(
            document, log_verifier(NODE, SigningKeyPair(seed=b"z" * 32).public_key)
        )


async def test_the_export_bundle_verifies_and_a_tampered_one_does_not(
    log: Log, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.jsonl"
    with bundle.open("wb") as fh:
        export_bundle(log.path, NODE, LOG_KEY, fh)
    summary = verify_bundle(bundle.read_bytes().splitlines(), trusted=LOG_KEY)
    assert (summary.log.size, summary.log.checkpoints, summary.node_id) == (40, 3, NODE)

    lines = bundle.read_bytes().splitlines()
    leaf_line = next(i for i, line in enumerate(lines) if b'"seq": 20' in line)
    tampered = list(lines)
    tampered[leaf_line] = lines[leaf_line].replace(b"test 20", b"test 99")
    with pytest.raises(AuditFailure, match="checkpoint at size 25") as info:
        verify_bundle(tampered, trusted=LOG_KEY)
    assert info.value.checkpoint == 25
    dropped = lines[:leaf_line] + lines[leaf_line + 1 :]
    with pytest.raises(AuditFailure, match="leaf 20 is missing"):
        verify_bundle(dropped, trusted=LOG_KEY)
    other = log_verifier(NODE, SigningKeyPair(seed=b"z" * 32).public_key)
    with pytest.raises(AuditFailure, match="not the one given"):
        verify_bundle(lines, trusted=other)


def add_witness(log: Log, node_id: str, key: SigningKeyPair) -> None:
    log.sql(
        "INSERT INTO peers (node_id, country, name, endpoint, card, fingerprint, added_at_ms)"
        " VALUES (?, 'BR', 'w', 'http://127.0.0.1:1', x'00', 'fp', 0)",
        node_id,
    )
    log.sql(
        "INSERT INTO peer_keys (key_id, node_id, purpose, public_key, added_at_ms)"
        " VALUES (?, ?, 'audit', ?, 0)",
        key.key_id,
        node_id,
        key.public_key,
    )


async def test_cosignatures_of_our_checkpoints_are_verified(log: Log) -> None:
    witness = SigningKeyPair(seed=b"w" * 32)
    add_witness(log, "br-ncp", witness)
    with sqlite3.connect(log.path) as conn:
        note = bytes(
            conn.execute("SELECT note FROM audit_checkpoints WHERE size = 25").fetchone()[0]
        )
    checkpoint = Checkpoint.parse(note.decode().split("\n\n")[0] + "\n")
    line = witness_cosigner("br-ncp", witness.seed).cosign(checkpoint, 1_700_000_000).line()
    log.sql(
        "INSERT INTO audit_cosignatures (size, witness, line, timestamp, received_at_ms)"
        " VALUES (25, 'br-ncp', ?, 1700000000, 0)",
        line.rstrip("\n"),
    )
    summary = verify_database(log.path, LOG_KEY)
    assert (summary.cosignatures, summary.witnesses) == (1, ("br-ncp",))
    # The same cosignature moved to another checkpoint no longer verifies.
    log.sql("UPDATE audit_cosignatures SET size = 40")
    assert "cosignature by br-ncp" in log.fails(checkpoint=40)


def test_verifier_names_are_the_log_origin() -> None:
    assert LOG_KEY.name == "gateway.fr-ncp/audit"
    assert Verifier.parse(LOG_KEY.format()) == LOG_KEY
