"""Checking an audit log from end to end, offline and streaming (`gateway audit verify`).

The problem: a node's log grows to millions of leaves, and checking it must not need the log in
memory, nor trust anything the database derived from the leaves. Options were to load every leaf
hash and rebuild the tree level by level (O(n) memory), or to stream. We stream: `LogChecker`
is fed one stored leaf at a time in sequence order (push, so this module does no I/O), keeps
only the compact range of the tree (O(log n) hashes), and checks, for each leaf:

- its sequence number follows the previous one (a deleted or inserted row shows as a gap),
- it decodes and is in canonical form, and holds its own sequence number (a reordered row),
- its stored hash and indexed columns agree with its bytes (an edited leaf or column),
- every tree node it completes equals the stored one (the store hands the stored nodes as one
  iterator per level, in index order; a bundle has none),
- when the tree reaches the size of a signed checkpoint, the checkpoint's root is the root of
  the leaves (a leaf rewritten together with its hashes and nodes).

A checkpoint whose root equals the recomputed root at its size is consistent with every other
such checkpoint by construction: both are prefixes of one recomputed tree. The store also checks
the explicit consistency proofs its peers are served. Failures raise `AuditFailure` naming the
first bad leaf index or checkpoint size.

An export bundle (`gateway audit export`) is JSON lines: a header with the log's and witnesses'
verifier keys, the signed checkpoints, the cosignatures, then one line per leaf. It is checked
by the same `LogChecker`, without stored hashes or nodes: there a rewritten leaf shows as the
first checkpoint whose root no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.core import merkle
from gateway.core.audit import AuditLeaf, LeafError, decode_leaf
from gateway.core.audit_checkpoint import AuditFailure, Progress, open_log_checkpoint
from gateway.core.signed_note import (
    Checkpoint,
    NoteSignature,
    Verifier,
    b64encode,
    verify_cosignature,
)
from gateway.errors import GatewayError

__all__ = [
    "BUNDLE_FORMAT",
    "LEAF_COLUMNS",
    "BundleSummary",
    "LogChecker",
    "LogSummary",
    "StoredCheckpoint",
    "StoredCosignature",
    "StoredNodes",
    "bundle_checkpoint",
    "bundle_cosignature",
    "bundle_header",
    "bundle_leaf",
    "check_cosignatures",
    "open_checkpoints",
    "verify_bundle",
]

BUNDLE_FORMAT = "gateway-audit-bundle/v1"
# The indexed copies of leaf fields in audit_leaves; they must say what the leaf says.
LEAF_COLUMNS = ("time_ms", "actor", "action", "notice_id", "message_id", "peer", "outcome")
# A progress report every this many leaves: a few lines a second on a million-leaf log.
PROGRESS_EVERY = 100_000
# Tree levels beyond this cannot exist (2**64 leaves); the store is asked about each for strays.
MAX_LEVELS = 64

# level -> the stored nodes of that level as (index, hash), in index order.
StoredNodes = Callable[[int], Iterator[tuple[int, bytes]]]
ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCosignature:
    size: int  # of our checkpoint that was cosigned
    witness: str  # the witness's node id
    line: str  # its signature line, without the newline


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSummary:
    size: int
    root: bytes
    checkpoints: int
    latest_checkpoint: int | None
    uncovered: int  # leaves after the latest checkpoint, not yet signed for
    cosignatures: int = 0
    witnesses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleSummary:
    node_id: str
    log_key: str
    key_from_bundle: bool  # no trusted key given: the bundle's own key was used
    log: LogSummary


def open_checkpoints(stored: Iterable[StoredCheckpoint], log: Verifier) -> dict[int, Checkpoint]:
    """Verify every stored checkpoint's signature, origin and stored columns."""
    opened: dict[int, Checkpoint] = {}
    for cp in stored:
        try:
            checkpoint = open_log_checkpoint(cp.note, log)
        except GatewayError as exc:
            raise AuditFailure(f"checkpoint at size {cp.size}: {exc}", checkpoint=cp.size) from exc
        if checkpoint.size != cp.size:
            raise AuditFailure(
                f"checkpoint stored at size {cp.size} is signed for size {checkpoint.size}",
                checkpoint=cp.size,
            )
        if checkpoint.root_hash != cp.root:
            raise AuditFailure(
                f"checkpoint at size {cp.size}: its stored root is not the signed one",
                checkpoint=cp.size,
            )
        opened[cp.size] = checkpoint
    return opened


class LogChecker:
    """Feed stored leaves in order with `add`, then call `finish` (see the module docstring)."""

    def __init__(
        self,
        *,
        checkpoints: Mapping[int, Checkpoint],
        stored_nodes: StoredNodes | None = None,
        on_progress: ProgressFn | None = None,
        total: int | None = None,
    ) -> None:
        self.size = 0
        self._checkpoints = checkpoints
        self._sizes = sorted(checkpoints)
        self._stack: list[bytes] = []
        self._nodes = stored_nodes
        self._cursors: dict[int, Iterator[tuple[int, bytes]]] = {}
        self._on_progress = on_progress
        self._total = total
        self._last_checked = 0
        if 0 in checkpoints:
            self._check_root()

    def root(self) -> bytes:
        return merkle.root_from_nodes(self._stack)

    def add(
        self,
        seq: int,
        leaf: bytes,
        leaf_hash: bytes | None = None,
        columns: Sequence[object] | None = None,
    ) -> None:
        size = self.size
        if seq != size:
            if seq > size:
                raise AuditFailure(
                    f"leaf {size} is missing: the next stored leaf is {seq}", index=size
                )
            raise AuditFailure(f"leaf {seq} appears again after leaf {size - 1}", index=seq)
        try:
            decoded = decode_leaf(leaf)
        except LeafError as exc:
            raise AuditFailure(f"leaf {seq}: {exc}", index=seq) from exc
        if decoded.seq != seq:
            raise AuditFailure(
                f"leaf {seq} holds entry {decoded.seq}: leaves were reordered or moved", index=seq
            )
        h = merkle.leaf_hash(leaf)
        if leaf_hash is not None and leaf_hash != h:
            raise AuditFailure(
                f"leaf {seq}: the stored leaf hash does not match the leaf (the leaf was edited)",
                index=seq,
            )
        if columns is not None:
            _check_columns(decoded, columns)
        self._append(h)
        if self.size in self._checkpoints:
            self._check_root()
        if self._on_progress is not None and self.size % PROGRESS_EVERY == 0:
            self._on_progress(Progress(leaves=self.size, total=self._total))

    def _append(self, h: bytes) -> None:
        """CompactRange.append for one leaf, without building a new range per leaf."""
        stack, index, level = self._stack, self.size, 0
        self._node(0, index, h)
        stack.append(h)
        while index & 1:
            right = stack.pop()
            h = merkle.node_hash(stack.pop(), right)
            index, level = index >> 1, level + 1
            stack.append(h)
            self._node(level, index, h)
        self.size += 1

    def _node(self, level: int, index: int, computed: bytes) -> None:
        if self._nodes is None:
            return
        cursor = self._cursors.get(level)
        if cursor is None:
            cursor = self._cursors[level] = self._nodes(level)
        found = next(cursor, None)
        first, last = index << level, ((index + 1) << level) - 1
        where = f"audit node level {level} index {index} (leaves {first}..{last})"
        if found is None or found[0] != index:
            raise AuditFailure(f"{where} is missing", index=first)
        if found[1] != computed:
            if level == 0:
                raise AuditFailure(
                    f"leaf {index}: its stored tree node does not match the leaf", index=index
                )
            raise AuditFailure(f"{where} does not match the leaves below it", index=first)

    def _check_root(self) -> None:
        size = self.size
        checkpoint = self._checkpoints[size]
        root = self.root()
        if root != checkpoint.root_hash:
            earlier = [s for s in self._sizes if s < size]
            since = earlier[-1] if earlier else 0
            signed, stored = b64encode(checkpoint.root_hash), b64encode(root)
            raise AuditFailure(
                f"checkpoint at size {size}: its root {signed} is not the root"
                f" of the stored leaves ({stored}); a leaf in {since}..{size - 1} was changed"
                " after the checkpoint was signed",
                checkpoint=size,
                index=since,
            )
        self._last_checked = size

    def finish(self) -> LogSummary:
        if self._nodes is not None:
            for level in range(MAX_LEVELS):
                cursor = self._cursors.get(level) or self._nodes(level)
                extra = next(cursor, None)
                if extra is not None:
                    raise AuditFailure(
                        f"audit node level {level} index {extra[0]} lies beyond the log's"
                        f" {self.size} leaves: leaves were deleted or nodes inserted",
                        index=self.size,
                    )
        beyond = [s for s in self._sizes if s > self.size]
        if beyond:
            raise AuditFailure(
                f"checkpoint at size {beyond[0]} covers more leaves than the log holds"
                f" ({self.size}): leaves from {self.size} on were deleted or the database"
                " was truncated",
                checkpoint=beyond[0],
                index=self.size,
            )
        latest = self._sizes[-1] if self._sizes else None
        if self._on_progress is not None and self.size % PROGRESS_EVERY:
            self._on_progress(Progress(leaves=self.size, total=self._total))
        return LogSummary(
            size=self.size,
            root=self.root(),
            checkpoints=len(self._sizes),
            latest_checkpoint=latest,
            uncovered=self.size - (latest or 0),
        )


def _check_columns(leaf: AuditLeaf, columns: Sequence[object]) -> None:
    for name, value in zip(LEAF_COLUMNS, columns, strict=True):
        if getattr(leaf, name) != value:
            raise AuditFailure(
                f"leaf {leaf.seq}: column {name} does not say what the leaf says (edited)",
                index=leaf.seq,
            )


def check_cosignatures(
    checkpoints: Mapping[int, Checkpoint],
    cosignatures: Iterable[StoredCosignature],
    witnesses: Mapping[str, Sequence[Verifier]],
) -> tuple[int, tuple[str, ...]]:
    """Verify each cosignature of our checkpoints; returns (how many, by which witnesses)."""
    count, seen = 0, set()
    for cosig in cosignatures:
        where = f"cosignature by {cosig.witness} of the checkpoint at size {cosig.size}"
        checkpoint = checkpoints.get(cosig.size)
        if checkpoint is None:
            raise AuditFailure(f"{where}: no such checkpoint", checkpoint=cosig.size)
        try:
            signature = NoteSignature.parse(cosig.line)
            keys = [v for v in witnesses.get(cosig.witness, ()) if v.key_id == signature.key_id]
            if not keys:
                raise AuditFailure(f"{where}: not made by a witness key we know")
            verify_cosignature(checkpoint, signature, keys[0])
        except AuditFailure as exc:
            raise AuditFailure(str(exc), checkpoint=cosig.size) from None
        except GatewayError as exc:
            raise AuditFailure(f"{where}: {exc}", checkpoint=cosig.size) from exc
        count += 1
        seen.add(cosig.witness)
    return count, tuple(sorted(seen))


# --- export bundles ------------------------------------------------------------------------


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


def bundle_header(
    *,
    node_id: str,
    log: Verifier,
    witnesses: Mapping[str, Sequence[Verifier]],
    leaves: int,
    checkpoints: int,
    cosignatures: int,
) -> bytes:
    return _line(
        {
            "format": BUNDLE_FORMAT,
            "node_id": node_id,
            "log_key": log.format(),
            "witness_keys": {w: [v.format() for v in vs] for w, vs in sorted(witnesses.items())},
            "leaves": leaves,
            "checkpoints": checkpoints,
            "cosignatures": cosignatures,
        }
    )


def bundle_checkpoint(cp: StoredCheckpoint) -> bytes:
    return _line({"checkpoint": cp.note.decode("utf-8")})


def bundle_cosignature(cosig: StoredCosignature) -> bytes:
    return _line({"cosignature": cosig.line, "size": cosig.size, "witness": cosig.witness})


def bundle_leaf(seq: int, leaf: bytes) -> bytes:
    return _line({"leaf": leaf.decode("ascii"), "seq": seq})


class _BundleReader:
    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)
        self.number = 0

    def next(self, what: str) -> dict[str, Any] | None:
        raw = next(self._lines, None)
        if raw is None:
            return None
        self.number += 1
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise AuditFailure(f"bundle line {self.number} is not JSON") from exc
        if not isinstance(value, dict):
            raise AuditFailure(f"bundle line {self.number} is not a {what}")
        return value

    def field(self, value: dict[str, Any], name: str, kind: type) -> Any:
        found = value.get(name)
        if not isinstance(found, kind) or isinstance(found, bool):
            raise AuditFailure(f"bundle line {self.number}: {name} is missing or wrong")
        return found


def verify_bundle(
    lines: Iterable[bytes],
    *,
    trusted: Verifier | None = None,
    on_progress: ProgressFn | None = None,
) -> BundleSummary:
    """Check an export bundle; `trusted` is the log key obtained out of band, if any."""
    reader = _BundleReader(lines)
    header = reader.next("header")
    if header is None or header.get("format") != BUNDLE_FORMAT:
        raise AuditFailure(f"not a {BUNDLE_FORMAT} file")
    try:
        log = Verifier.parse(reader.field(header, "log_key", str))
        witnesses = {
            str(w): [Verifier.parse(str(k)) for k in keys]
            for w, keys in reader.field(header, "witness_keys", dict).items()
        }
    except GatewayError as exc:
        raise AuditFailure(f"bundle header: {exc}") from exc
    if trusted is not None and log != trusted:
        raise AuditFailure(f"bundle is signed with log key {log.format()}, not the one given")
    stored: list[StoredCheckpoint] = []
    for _ in range(reader.field(header, "checkpoints", int)):
        value = reader.next("checkpoint") or {}
        note = reader.field(value, "checkpoint", str).encode("utf-8")
        try:
            # Unverified here: only to know which size it claims; open_checkpoints verifies.
            body = Checkpoint.parse(note.decode().split("\n\n", 1)[0] + "\n")
        except GatewayError as exc:
            raise AuditFailure(f"bundle line {reader.number}: {exc}") from exc
        stored.append(StoredCheckpoint(size=body.size, root=body.root_hash, note=note))
    checkpoints = open_checkpoints(stored, log)
    cosigs = []
    for _ in range(reader.field(header, "cosignatures", int)):
        value = reader.next("cosignature") or {}
        cosigs.append(
            StoredCosignature(
                size=reader.field(value, "size", int),
                witness=reader.field(value, "witness", str),
                line=reader.field(value, "cosignature", str),
            )
        )
    total = reader.field(header, "leaves", int)
    checker = LogChecker(checkpoints=checkpoints, on_progress=on_progress, total=total)
    while (line := reader.next("leaf")) is not None:
        seq = reader.field(line, "seq", int)
        try:
            leaf = reader.field(line, "leaf", str).encode("ascii")
        except UnicodeEncodeError:
            raise AuditFailure(f"leaf {seq} is not ASCII", index=seq) from None
        checker.add(seq, leaf)
    summary = checker.finish()
    if summary.size != total:
        raise AuditFailure(
            f"bundle holds {summary.size} leaves, its header says {total}", index=summary.size
        )
    count, seen = check_cosignatures(checkpoints, cosigs, witnesses)
    return BundleSummary(
        node_id=str(header.get("node_id", "")),
        log_key=log.format(),
        key_from_bundle=trusted is None,
        log=LogSummary(
            size=summary.size,
            root=summary.root,
            checkpoints=summary.checkpoints,
            latest_checkpoint=summary.latest_checkpoint,
            uncovered=summary.uncovered,
            cosignatures=count,
            witnesses=seen,
        ),
    )
