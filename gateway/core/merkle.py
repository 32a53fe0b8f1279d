"""RFC 9162 Merkle tree maths for the audit log: hashing, appending, proof planning, verifying.

The problem: a node's audit log grows to millions of leaves and must answer any inclusion or
consistency proof cheaply, without rebuilding the tree. Options were (a) store only leaves and
recompute subtrees per proof (O(n) reads), (b) store tiles (c2sp.org/tlog-tiles), or (c) store
every perfect subtree node once, when it completes. We take (c), as transparency-dev/merkle
does: appending never rewrites a node, and every proof needs O(log n) node reads.

The work is split in three, as in transparency-dev/merkle `proof/proof.go` and `verify.go`:
- planning (`inclusion_proof_plan`, `consistency_proof_plan`, `root_nodes`) says which stored
  nodes a proof needs. A proof element over the ragged right edge of a tree is not a perfect
  subtree, so it is never stored; the plan names it as an `Ephemeral` range together with the
  stored nodes that cover it. This carries the same information as transparency-dev's
  `Nodes.Ephem`/`Rehash`, but one plan step is one proof element, which reads and tests easily.
- fetching is the store's job; `assemble_proof` turns the fetched hashes into the proof.
- verifying (`verify_inclusion`, `verify_consistency`) follows RFC 9162 sections 2.1.3.2 and
  2.1.4.2 step by step, after checking the exact proof length so that errors say what is wrong.
  Policy (shared/vectors/README.md): a consistency proof from size 0 is always an error, equal
  sizes need an empty proof and equal roots, hashes in a proof must be 32 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from gateway.core.crypto import sha256
from gateway.errors import GatewayError

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "CompactRange",
    "Ephemeral",
    "NodeId",
    "ProofError",
    "ProofPlan",
    "ProofStep",
    "RootMismatch",
    "assemble_proof",
    "consistency_proof_plan",
    "inclusion_proof_plan",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_at",
    "root_from_leaf_hashes",
    "root_from_nodes",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"")


class ProofError(GatewayError):
    """A proof, a tree size or a hash is not acceptable (wrong length, out of range, missing)."""


class RootMismatch(ProofError):
    """A proof is well formed but leads to a different root than the one claimed."""

    def __init__(self, what: str, *, expected: bytes, computed: bytes) -> None:
        super().__init__(f"{what} mismatch: expected {expected.hex()}, computed {computed.hex()}")
        self.expected = expected
        self.computed = computed


def leaf_hash(data: bytes) -> bytes:
    return sha256(LEAF_PREFIX + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right)


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_BYTES:
        raise ProofError(f"{what} is {len(value)} bytes, want {HASH_BYTES}")


# --- Node addressing -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeId:
    """The root of a perfect subtree: leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int

    def __post_init__(self) -> None:
        if self.level < 0 or self.index < 0:
            raise ProofError(f"bad node id level={self.level} index={self.index}")

    @property
    def begin(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def range_nodes(begin: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees that exactly cover leaves [begin, end), left to right.

    The same decomposition as transparency-dev's compact.RangeNodes: the largest aligned
    subtree that fits at each position.
    """
    if not 0 <= begin <= end:
        raise ProofError(f"bad leaf range [{begin}, {end})")
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append(NodeId(level=level, index=begin >> level))
        begin += 1 << level
    return tuple(nodes)


def root_nodes(size: int) -> tuple[NodeId, ...]:
    """The stored nodes whose hashes make up the root of the tree of `size` leaves."""
    return range_nodes(0, size)


def root_from_nodes(hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of `root_nodes(size)` (or of an `Ephemeral`'s parts) into one root."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def root_at(size: int, fetched: Mapping[NodeId, bytes]) -> bytes:
    """The root of the tree of `size` leaves, from stored nodes (see `root_nodes`)."""
    return root_from_nodes([_fetch(fetched, node) for node in root_nodes(size)])


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, level by level.

    Promoting an unpaired last node unchanged to the next level builds exactly the RFC 9162
    tree (the left subtree is always the largest power of two), without recursion.
    """
    level = list(hashes)
    for i, h in enumerate(level):
        _check_hash(f"leaf hash {i}", h)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- Appending -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactRange:
    """The hashes of `root_nodes(size)`: all a log needs to append and compute its root.

    Like transparency-dev's compact.Range, always starting at leaf 0. A store can rebuild it
    after a restart from persisted nodes: `CompactRange(size=n, hashes=[... root_nodes(n)])`.
    """

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise ProofError(
                f"a compact range of size {self.size} has {self.size.bit_count()} hashes, "
                f"got {len(self.hashes)}"
            )
        for i, h in enumerate(self.hashes):
            _check_hash(f"compact range hash {i}", h)

    def root(self) -> bytes:
        return root_from_nodes(self.hashes)

    def append(
        self, leaf_hashes: Iterable[bytes]
    ) -> tuple[CompactRange, list[tuple[NodeId, bytes]]]:
        """Append leaves; return the new range and every node completed on the way.

        The completed nodes (leaves included, at level 0) are what a store persists; each is
        written exactly once and never changes.
        """
        hashes = list(self.hashes)
        size = self.size
        completed: list[tuple[NodeId, bytes]] = []
        for h in leaf_hashes:
            _check_hash(f"leaf hash {size}", h)
            level, index = 0, size
            completed.append((NodeId(level=0, index=index), h))
            hashes.append(h)
            while index & 1:
                right = hashes.pop()
                h = node_hash(hashes.pop(), right)
                level, index = level + 1, index >> 1
                hashes.append(h)
                completed.append((NodeId(level=level, index=index), h))
            size += 1
        return CompactRange(size=size, hashes=tuple(hashes)), completed


# --- Planning and assembling proofs --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Ephemeral:
    """A proof element over leaves [begin, end) that is not a perfect subtree.

    It lies on the right edge of the tree; its hash is `root_from_nodes` of its `parts`.
    """

    begin: int
    end: int
    parts: tuple[NodeId, ...]

    def __post_init__(self) -> None:
        n = self.end - self.begin
        if (
            n < 3
            or self.begin % (1 << (n - 1).bit_length())
            or self.parts != range_nodes(self.begin, self.end)
            or len(self.parts) < 2
        ):
            raise ProofError(f"[{self.begin}, {self.end}) is not an ephemeral subtree")


ProofStep: TypeAlias = NodeId | Ephemeral


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofPlan:
    """One step per proof element, in proof order (RFC 9162: from the leaf upwards)."""

    steps: tuple[ProofStep, ...]

    def node_ids(self) -> tuple[NodeId, ...]:
        """Every stored node the store must fetch, without repeats."""
        seen: dict[NodeId, None] = {}
        for step in self.steps:
            for node in step.parts if isinstance(step, Ephemeral) else (step,):
                seen[node] = None
        return tuple(seen)


def _step(begin: int, end: int) -> ProofStep:
    n = end - begin
    if n & (n - 1) == 0 and begin % n == 0:
        level = n.bit_length() - 1
        return NodeId(level=level, index=begin >> level)
    return Ephemeral(begin=begin, end=end, parts=range_nodes(begin, end))


def _split(lo: int, hi: int) -> int:
    """RFC 9162: k is the largest power of two smaller than the range's size."""
    return lo + (1 << ((hi - lo - 1).bit_length() - 1))


def inclusion_proof_plan(index: int, size: int) -> ProofPlan:
    """Plan PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for tree size {size}")
    steps: list[ProofStep] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = _split(lo, hi)
        if index < mid:
            steps.append(_step(mid, hi))
            hi = mid
        else:
            steps.append(_step(lo, mid))
            lo = mid
    return ProofPlan(steps=tuple(reversed(steps)))


def consistency_proof_plan(size1: int, size2: int) -> ProofPlan:
    """Plan PROOF(size1, D[0:size2]) of RFC 9162 section 2.1.4.1 (SUBPROOF with b = true)."""
    if size1 <= 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 > size2:
        raise ProofError(f"tree size {size1} is larger than {size2}")
    steps: list[ProofStep] = []
    lo, hi = 0, size2
    known = True
    while size1 != hi:
        mid = _split(lo, hi)
        if size1 <= mid:
            steps.append(_step(mid, hi))
            hi = mid
        else:
            steps.append(_step(lo, mid))
            lo = mid
            known = False
    if not known:
        steps.append(_step(lo, hi))
    return ProofPlan(steps=tuple(reversed(steps)))


def _fetch(fetched: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        h = fetched[node]
    except KeyError:
        raise ProofError(f"node level={node.level} index={node.index} was not supplied") from None
    _check_hash(f"node level={node.level} index={node.index}", h)
    return h


def assemble_proof(plan: ProofPlan, fetched: Mapping[NodeId, bytes]) -> list[bytes]:
    """Turn the hashes the store fetched for `plan.node_ids()` into the proof."""
    proof: list[bytes] = []
    for step in plan.steps:
        if isinstance(step, Ephemeral):
            proof.append(root_from_nodes([_fetch(fetched, node) for node in step.parts]))
        else:
            proof.append(_fetch(fetched, step))
    return proof


# --- Verifying -----------------------------------------------------------------------------


def _inclusion_proof_length(index: int, size: int) -> int:
    """Siblings below the point where the paths to `index` and `size - 1` diverge, plus the
    left-hand border nodes above it (transparency-dev `decompInclProof`)."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_length(size1: int, size2: int) -> int:
    shift = (size1 & -size1).bit_length() - 1
    seed = 0 if size1 == 1 << shift else 1
    return seed + _inclusion_proof_length(size1 - 1, size2) - shift


def _check_proof(proof: Sequence[bytes], want: int) -> None:
    if len(proof) != want:
        raise ProofError(f"proof has {len(proof)} hashes, want exactly {want}")
    for i, h in enumerate(proof):
        _check_hash(f"proof[{i}]", h)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless `proof` shows leaf `index` with `leaf_hash` in the tree (`size`, `root`)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for tree size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof(proof, _inclusion_proof_length(index, size))
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is shorter than the path to the root")
    if r != root:
        raise RootMismatch("root", expected=root, computed=r)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise unless `proof` shows the tree (`size1`, `root1`) is a prefix of (`size2`, `root2`)."""
    if size1 <= 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size2 < size1:
        raise ProofError(f"tree size {size2} is smaller than the earlier size {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("equal tree sizes need an empty proof")
        if root1 != root2:
            raise RootMismatch("root of equal size", expected=root2, computed=root1)
        return
    _check_hash("first root", root1)
    _check_hash("second root", root2)
    _check_proof(proof, _consistency_proof_length(size1, size2))
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is shorter than the path to the root")
    if fr != root1:
        raise RootMismatch("first root", expected=root1, computed=fr)
    if sr != root2:
        raise RootMismatch("second root", expected=root2, computed=sr)
