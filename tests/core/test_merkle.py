"""gateway.core.merkle against independent vectors and a naive RFC 9162 reference."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.core.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Ephemeral,
    NodeId,
    ProofError,
    RootMismatch,
    assemble_proof,
    consistency_proof_plan,
    inclusion_proof_plan,
    leaf_hash,
    node_hash,
    range_nodes,
    root_at,
    root_from_leaf_hashes,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)
from gateway.errors import GatewayError

# --- Naive reference: RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1, recursion as written ----


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --- Helpers -------------------------------------------------------------------------------


def build_store(
    leaves: Sequence[bytes], cut: int | None = None
) -> tuple[CompactRange, dict[NodeId, bytes]]:
    """Append `leaves` (in two calls, split at `cut`) and keep every completed node."""
    cut = len(leaves) // 2 if cut is None else cut
    store: dict[NodeId, bytes] = {}
    rng = CompactRange()
    for chunk in (leaves[:cut], leaves[cut:]):
        rng, nodes = rng.append(leaf_hash(x) for x in chunk)
        for node, h in nodes:
            assert node not in store, "a node was completed twice"
            store[node] = h
    return rng, store


def fetch_only(plan_nodes: Sequence[NodeId], store: dict[NodeId, bytes]) -> dict[NodeId, bytes]:
    """What a store would hand back: exactly the planned nodes, nothing more."""
    return {node: store[node] for node in plan_nodes}


def inclusion_from_store(index: int, size: int, store: dict[NodeId, bytes]) -> list[bytes]:
    plan = inclusion_proof_plan(index, size)
    assert all(node.end <= size for node in plan.node_ids())
    return assemble_proof(plan, fetch_only(plan.node_ids(), store))


def consistency_from_store(size1: int, size2: int, store: dict[NodeId, bytes]) -> list[bytes]:
    plan = consistency_proof_plan(size1, size2)
    assert all(node.end <= size2 for node in plan.node_ids())
    return assemble_proof(plan, fetch_only(plan.node_ids(), store))


def _b64(s: str) -> bytes:
    return base64.b64decode(s)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def eight(vectors_dir: Path) -> dict[str, Any]:
    return _load(vectors_dir / "merkle" / "rfc6962_8leaf_vectors.json")


@pytest.fixture(scope="module")
def eight_leaves(eight: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(x) for x in eight["external"]["leaf_inputs_hex"]]


# --- The 8-leaf RFC 6962 vectors -----------------------------------------------------------


def test_hasher_unit_vectors(eight: dict[str, Any]) -> None:
    want = [bytes.fromhex(v["want"]) for v in eight["external"]["hasher_unit_vectors"]]
    assert [EMPTY_ROOT, leaf_hash(b""), leaf_hash(b"L123456"), node_hash(b"N123", b"N456")] == want


def test_roots_for_every_size(eight: dict[str, Any], eight_leaves: list[bytes]) -> None:
    for size, root_hex in enumerate(eight["external"]["root_by_tree_size"]):
        want = bytes.fromhex(root_hex)
        leaves = eight_leaves[:size]
        assert root_from_leaf_hashes([leaf_hash(x) for x in leaves]) == want, size
        assert ref_mth(leaves) == want, size
        rng, store = build_store(leaves)
        assert rng.root() == want, size
        assert root_at(size, store) == want, size


def test_appender_persists_exactly_the_vector_nodes(
    eight: dict[str, Any], eight_leaves: list[bytes]
) -> None:
    rng, store = CompactRange(), dict[NodeId, bytes]()
    for leaf in eight_leaves:
        rng, nodes = rng.append([leaf_hash(leaf)])
        store.update(nodes)
    want = {
        NodeId(level=level, index=index): bytes.fromhex(h)
        for level, row in enumerate(eight["external"]["node_hashes_by_level"])
        for index, h in enumerate(row)
    }
    assert store == want


def test_inclusion_proofs_from_planning_match_vectors(
    eight: dict[str, Any], eight_leaves: list[bytes]
) -> None:
    cases = eight["external"]["inclusion_proofs"] + eight["derived"]["all_inclusion_proofs"]
    assert len(cases) == 5 + 36
    for case in cases:
        index, size = case["leaf_index"], case["tree_size"]
        want = [bytes.fromhex(h) for h in case["inclusion_path"]]
        _, store = build_store(eight_leaves[:size])
        assert inclusion_from_store(index, size, store) == want, case
        assert ref_path(index, eight_leaves[:size]) == want, case
        root = bytes.fromhex(eight["external"]["root_by_tree_size"][size])
        verify_inclusion(leaf_hash(eight_leaves[index]), index, size, want, root)


def test_consistency_proofs_from_planning_match_vectors(
    eight: dict[str, Any], eight_leaves: list[bytes]
) -> None:
    cases = eight["external"]["consistency_proofs"] + eight["derived"]["all_consistency_proofs"]
    assert len(cases) == 5 + 28
    roots = [bytes.fromhex(h) for h in eight["external"]["root_by_tree_size"]]
    for case in cases:
        size1, size2 = case["first"], case["second"]
        want = [bytes.fromhex(h) for h in case["consistency_path"]]
        _, store = build_store(eight_leaves[:size2])
        assert consistency_from_store(size1, size2, store) == want, case
        assert ref_proof(size1, eight_leaves[:size2]) == want, case
        verify_consistency(size1, size2, want, roots[size1], roots[size2])


# --- transparency-dev/merkle conformance probes --------------------------------------------


def _run_vectors(vectors_dir: Path, kind: str, check: Any) -> None:
    files = sorted((vectors_dir / "merkle" / kind).rglob("*.json"))
    assert len(files) == 98, f"expected 98 {kind} vectors, found {len(files)}"
    failures, happy = [], 0
    for path in files:
        case = _load(path)
        name = str(path.relative_to(vectors_dir))
        try:
            check(case)
        except ProofError as exc:
            if not case["wantErr"]:
                failures.append(f"{name}: rejected a valid proof: {exc}")
        else:
            if case["wantErr"]:
                failures.append(f"{name}: accepted ({case['desc']})")
            happy += 1
    assert not failures, "\n".join(failures)
    assert happy == 6


def test_transparency_dev_inclusion_vectors(vectors_dir: Path) -> None:
    def check(c: dict[str, Any]) -> None:
        proof = [_b64(p) for p in c["proof"] or []]
        verify_inclusion(_b64(c["leafHash"]), c["leafIdx"], c["treeSize"], proof, _b64(c["root"]))

    _run_vectors(vectors_dir, "inclusion", check)


def test_transparency_dev_consistency_vectors(vectors_dir: Path) -> None:
    def check(c: dict[str, Any]) -> None:
        proof = [_b64(p) for p in c["proof"] or []]
        roots = _b64(c["root1"]), _b64(c["root2"])
        verify_consistency(c["size1"], c["size2"], proof, *roots)

    _run_vectors(vectors_dir, "consistency", check)


# --- Random trees against the reference ----------------------------------------------------

LARGE_SIZES = (1023, 1024, 1025, 4097, 10_000)
sizes = st.one_of(st.integers(1, 64), st.integers(1, 10_000))
PROPERTY_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _leaves(size: int, salt: int) -> list[bytes]:
    return [salt.to_bytes(2, "big") + i.to_bytes(4, "big") for i in range(size)]


def _check_against_reference(
    size: int, salt: int, cut: int, indices: set[int], sizes1: set[int]
) -> None:
    leaves = _leaves(size, salt)
    rng, store = build_store(leaves, cut)
    root = ref_mth(leaves)
    assert rng.root() == root == root_from_leaf_hashes([leaf_hash(x) for x in leaves])
    assert set(store) == {
        NodeId(level=lv, index=i) for lv in range(size.bit_length()) for i in range(size >> lv)
    }
    assert root_at(size, store) == root
    bound = 2 * size.bit_length()
    for index in indices:
        assert len(inclusion_proof_plan(index, size).node_ids()) <= bound
        proof = inclusion_from_store(index, size, store)
        assert proof == ref_path(index, leaves)
        verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
    for size1 in sizes1:
        assert len(consistency_proof_plan(size1, size).node_ids()) <= bound
        proof = consistency_from_store(size1, size, store)
        assert proof == ref_proof(size1, leaves)
        verify_consistency(size1, size, proof, root_at(size1, store), root)


@PROPERTY_SETTINGS
@given(size=sizes, salt=st.integers(0, 65535), data=st.data())
def test_store_and_planning_reproduce_reference(size: int, salt: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    cut = data.draw(st.integers(0, size))
    _check_against_reference(size, salt, cut, {0, index, size - 1}, {1, size1, size})


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_large_trees_reproduce_reference(size: int) -> None:
    _check_against_reference(
        size, size, size // 3, {0, size // 2, size - 1}, {1, size // 2, size - 1, size}
    )


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    h = bytearray(proof[i])
    h[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:i], bytes(h), *proof[i + 1 :]]


@PROPERTY_SETTINGS
@given(size=st.integers(2, 3000), salt=st.integers(0, 65535), data=st.data())
def test_tampered_inclusion_proofs_fail(size: int, salt: int, data: st.DataObject) -> None:
    leaves = _leaves(size, salt)
    rng, store = build_store(leaves)
    root = rng.root()
    index = data.draw(st.integers(0, size - 1))
    leaf = leaf_hash(leaves[index])
    proof = inclusion_from_store(index, size, store)
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    other = data.draw(st.integers(0, size - 1).filter(lambda j: j != index))
    for bad in (_flip(proof, i, bit), proof[:-1], [*proof, proof[-1]], [proof[0], *proof]):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other, size, proof, root)
    for wrong_index in (index - 1, index + 1):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, wrong_index, size, proof, root)
    with pytest.raises(RootMismatch):
        verify_inclusion(leaf_hash(leaves[other]), index, size, proof, root)
    with pytest.raises(RootMismatch):
        verify_inclusion(leaf, index, size, proof, _flip([root], 0, bit)[0])


@PROPERTY_SETTINGS
@given(size2=st.integers(2, 3000), salt=st.integers(0, 65535), data=st.data())
def test_tampered_consistency_proofs_fail(size2: int, salt: int, data: st.DataObject) -> None:
    leaves = _leaves(size2, salt)
    _, store = build_store(leaves)
    size1 = data.draw(st.integers(1, size2 - 1))
    root1, root2 = root_at(size1, store), root_at(size2, store)
    proof = consistency_from_store(size1, size2, store)
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    for bad in (_flip(proof, i, bit), proof[:-1], [*proof, proof[-1]], [proof[0], *proof]):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, bad, root1, root2)
    # size1 off by one must fail. (size2 off by one need not: the proof cannot tell a leaf hash
    # from a subtree hash, which is why the sizes travel signed inside checkpoints.)
    for s1 in (size1 - 1, size1 + 1):
        with pytest.raises(ProofError):
            verify_consistency(s1, size2, proof, root1, root2)
    with pytest.raises(RootMismatch):
        verify_consistency(size1, size2, proof, _flip([root1], 0, bit)[0], root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root2, root1)


# --- Named negative cases ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree7() -> tuple[list[bytes], dict[NodeId, bytes], bytes]:
    leaves = _leaves(7, 0)
    rng, store = build_store(leaves)
    return leaves, store, rng.root()


def test_wrong_leaf(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    leaves, store, root = tree7
    proof = inclusion_from_store(2, 7, store)
    with pytest.raises(RootMismatch) as info:
        verify_inclusion(leaf_hash(leaves[3]), 2, 7, proof, root)
    assert info.value.expected == root
    assert info.value.computed != root
    assert root.hex() in str(info.value)


def test_truncated_proof(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    leaves, store, root = tree7
    proof = inclusion_from_store(2, 7, store)
    with pytest.raises(ProofError, match="want exactly 3"):
        verify_inclusion(leaf_hash(leaves[2]), 2, 7, proof[:-1], root)


def test_trailing_garbage(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    leaves, store, root = tree7
    proof = inclusion_from_store(2, 7, store)
    with pytest.raises(ProofError, match="want exactly 3"):
        verify_inclusion(leaf_hash(leaves[2]), 2, 7, [*proof, b""], root)
    with pytest.raises(ProofError, match=r"proof\[2\] is 33 bytes"):
        verify_inclusion(leaf_hash(leaves[2]), 2, 7, [*proof[:2], proof[2] + b"\x00"], root)


def test_index_off_by_one(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    leaves, store, root = tree7
    proof = inclusion_from_store(2, 7, store)
    for index in (1, 3):
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(leaves[2]), index, 7, proof, root)
    with pytest.raises(ProofError, match="out of range"):
        verify_inclusion(leaf_hash(leaves[6]), 7, 7, [], root)


def test_leaf_hash_must_be_32_bytes(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    leaves, store, root = tree7
    proof = inclusion_from_store(2, 7, store)
    with pytest.raises(ProofError, match="leaf hash is 6 bytes"):
        verify_inclusion(leaves[2], 2, 7, proof, root)


def test_consistency_policy(tree7: tuple[list[bytes], dict[NodeId, bytes], bytes]) -> None:
    _, store, root = tree7
    root3 = root_at(3, store)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 7, [], EMPTY_ROOT, root)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="smaller"):
        verify_consistency(7, 3, [], root, root3)
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(7, 7, [root], root, root)
    with pytest.raises(RootMismatch):
        verify_consistency(7, 7, [], root3, root)
    verify_consistency(7, 7, [], root, root)
    with pytest.raises(ProofError, match="want exactly"):
        verify_consistency(3, 7, [], root3, root)


def test_planning_rejects_bad_sizes() -> None:
    with pytest.raises(ProofError):
        inclusion_proof_plan(5, 5)
    with pytest.raises(ProofError):
        inclusion_proof_plan(-1, 5)
    with pytest.raises(ProofError):
        consistency_proof_plan(0, 5)
    with pytest.raises(ProofError):
        consistency_proof_plan(6, 5)
    assert consistency_proof_plan(5, 5).steps == ()
    assert inclusion_proof_plan(0, 1).steps == ()


def test_plan_names_ephemeral_right_edge() -> None:
    plan = inclusion_proof_plan(0, 7)
    assert plan.steps == (
        NodeId(level=0, index=1),
        NodeId(level=1, index=1),
        Ephemeral(begin=4, end=7, parts=(NodeId(level=1, index=2), NodeId(level=0, index=6))),
    )
    assert plan.node_ids()[-2:] == (NodeId(level=1, index=2), NodeId(level=0, index=6))


def test_assemble_reports_missing_node(
    tree7: tuple[list[bytes], dict[NodeId, bytes], bytes],
) -> None:
    _, store, _ = tree7
    plan = inclusion_proof_plan(0, 7)
    partial = fetch_only(plan.node_ids()[:-1], store)
    with pytest.raises(ProofError, match="level=0 index=6 was not supplied"):
        assemble_proof(plan, partial)


def test_range_and_value_validation() -> None:
    assert range_nodes(3, 11) == (
        NodeId(level=0, index=3),
        NodeId(level=2, index=1),
        NodeId(level=1, index=4),
        NodeId(level=0, index=10),
    )
    assert root_nodes(6) == (NodeId(level=2, index=0), NodeId(level=1, index=2))
    assert root_nodes(0) == ()
    assert CompactRange().root() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    with pytest.raises(ProofError):
        CompactRange(size=3, hashes=(EMPTY_ROOT,))
    with pytest.raises(ProofError):
        CompactRange().append([b"short"])
    with pytest.raises(ProofError):
        NodeId(level=-1, index=0)
    with pytest.raises(ProofError):
        Ephemeral(begin=2, end=5, parts=range_nodes(2, 5))
    with pytest.raises(ProofError):
        Ephemeral(begin=0, end=4, parts=range_nodes(0, 4))
    assert issubclass(ProofError, GatewayError)
    assert issubclass(RootMismatch, ProofError)


def test_compact_range_resumes_from_stored_nodes() -> None:
    leaves = [leaf_hash(x) for x in _leaves(300, 9)]
    full, _ = CompactRange().append(leaves)
    first, store = CompactRange().append(leaves[:173])
    stored = dict(store)
    resumed = CompactRange(size=173, hashes=tuple(stored[n] for n in root_nodes(173)))
    assert resumed == first
    again, _ = resumed.append(leaves[173:])
    assert again == full
