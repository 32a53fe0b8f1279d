"""The pure audit checks: the streaming checker against the reference tree, checkpoints,
witness decisions, proofs on the wire."""

from __future__ import annotations

import pytest

from gateway.core import merkle
from gateway.core.audit import AuditLeaf, encode_leaf
from gateway.core.audit_checkpoint import (
    AuditFailure,
    WitnessStep,
    compare_checkpoints,
    decode_proof,
    encode_proof,
    log_signer,
    log_verifier,
    make_checkpoint,
    open_log_checkpoint,
)
from gateway.core.audit_verify import LogChecker, StoredCheckpoint, open_checkpoints
from gateway.core.signed_note import Checkpoint
from gateway.errors import Malformed

SIGNER = log_signer("fr-ncp", b"s" * 32)
VERIFIER = log_verifier("fr-ncp", SIGNER.public_key)


def leaf(seq: int) -> bytes:
    return encode_leaf(AuditLeaf(seq=seq, time_ms=seq, actor="system", action="escalation"))


def stored(size: int, leaves: list[bytes]) -> StoredCheckpoint:
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in leaves[:size]])
    return StoredCheckpoint(size=size, root=root, note=make_checkpoint(SIGNER, size, root))


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
def test_the_streaming_checker_matches_the_reference_root_and_nodes(size: int) -> None:
    leaves = [leaf(i) for i in range(size)]
    hashes = [merkle.leaf_hash(x) for x in leaves]
    _, completed = merkle.CompactRange().append(hashes)
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for node, h in completed:
        by_level.setdefault(node.level, []).append((node.index, h))
    checkpoints = open_checkpoints([stored(s, leaves) for s in {size, size // 2}], VERIFIER)
    checker = LogChecker(
        checkpoints=checkpoints, stored_nodes=lambda level: iter(by_level.get(level, []))
    )
    for i, data in enumerate(leaves):
        checker.add(i, data, hashes[i])
    summary = checker.finish()
    assert summary.root == merkle.root_from_leaf_hashes(hashes)
    assert (summary.size, summary.uncovered) == (size, 0)


def test_checkpoints_signed_by_another_key_or_for_another_log_are_refused() -> None:
    note = make_checkpoint(log_signer("fr-ncp", b"m" * 32), 1, b"r" * 32)
    with pytest.raises(AuditFailure, match="checkpoint at size 1"):
        open_checkpoints([StoredCheckpoint(size=1, root=b"r" * 32, note=note)], VERIFIER)
    assert open_log_checkpoint(make_checkpoint(SIGNER, 1, b"r" * 32), VERIFIER).size == 1


def test_witness_decisions() -> None:
    def cp(size: int, root: bytes = b"a" * 32) -> Checkpoint:
        return Checkpoint(origin="o", size=size, root_hash=root)

    assert compare_checkpoints(None, cp(3)) is WitnessStep.FIRST
    assert compare_checkpoints(cp(3), cp(3)) is WitnessStep.SAME
    assert compare_checkpoints(cp(3), cp(3, b"b" * 32)) is WitnessStep.FORK
    assert compare_checkpoints(cp(3), cp(5)) is WitnessStep.PROVE
    assert compare_checkpoints(cp(5), cp(3)) is WitnessStep.ROLLBACK


def test_proofs_on_the_wire_round_trip_and_refuse_anything_else() -> None:
    hashes = [bytes([i]) * 32 for i in range(5)]
    assert decode_proof(encode_proof(hashes)) == hashes
    assert decode_proof(b"") == []
    for bad in (b"not base64\n", encode_proof(hashes)[:-1], b"AAAA\n", b"\xff\n"):
        with pytest.raises(Malformed):
            decode_proof(bad)
