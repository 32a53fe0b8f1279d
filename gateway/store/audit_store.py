"""Audit storage beyond the leaves: checkpoints, proofs, witnessing state, verify and export.

`AuditStore` shares the node's `Database` (and so its group-committing writer) and `AuditLog`
with `Store`; every method is one transaction. Proofs cost O(log n) primary-key reads of
audit_nodes (gateway/core/merkle.py plans which). `verify_database` and `export_bundle` are
plain synchronous functions over a read-only connection in one read transaction: they are what
`gateway audit verify` and `export` run, offline, beside a running node (WAL lets them).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gateway.core import merkle
from gateway.core.audit_checkpoint import AuditFailure, make_checkpoint, witness_verifier
from gateway.core.audit_verify import (
    LEAF_COLUMNS,
    LogChecker,
    LogSummary,
    StoredCheckpoint,
    StoredCosignature,
    bundle_checkpoint,
    bundle_cosignature,
    bundle_header,
    bundle_leaf,
    check_cosignatures,
    open_checkpoints,
)
from gateway.core.crypto import sha256
from gateway.core.signed_note import Checkpoint, Signer, Verifier
from gateway.errors import ConfigError, NotFound
from gateway.store.audit import AuditLog, tree_size
from gateway.store.db import Database

__all__ = [
    "Alarm",
    "AuditStore",
    "LeafFilter",
    "LeafRecord",
    "WitnessState",
    "export_bundle",
    "verify_database",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafFilter:
    since_ms: int | None = None
    until_ms: int | None = None
    notice_id: str | None = None
    peer: str | None = None
    action: str | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafRecord:
    seq: int
    leaf: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessState:
    peer: str
    checkpoint: StoredCheckpoint | None
    verified_at_ms: int | None
    last_round_ms: int
    last_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Alarm:
    id: int
    peer: str
    kind: str
    raised_at_ms: int
    held_note: bytes
    new_note: bytes
    detail: str


def _checkpoint_row(row: Sequence[Any] | None) -> StoredCheckpoint | None:
    if row is None:
        return None
    return StoredCheckpoint(size=int(row[0]), root=bytes(row[1]), note=bytes(row[2]))


def _latest(conn: sqlite3.Connection) -> StoredCheckpoint | None:
    return _checkpoint_row(
        conn.execute(
            "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
    )


def _fetch_nodes(
    conn: sqlite3.Connection, nodes: Sequence[merkle.NodeId]
) -> dict[merkle.NodeId, bytes]:
    """One primary-key read per node the plan names: O(log n) for any proof."""
    found: dict[merkle.NodeId, bytes] = {}
    for node in nodes:
        row = conn.execute(
            "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?", (node.level, node.index)
        ).fetchone()
        if row is not None:
            found[node] = bytes(row[0])
    return found


def consistency_proof(conn: sqlite3.Connection, first: int, second: int) -> list[bytes]:
    """PROOF(first, second) from stored nodes; ProofError names a bad range."""
    size = tree_size(conn)
    if second > size:
        raise merkle.ProofError(f"to={second} is beyond the tree size {size}")
    if first > second:
        raise merkle.ProofError(f"from={first} is larger than to={second}")
    if first == second:
        return []
    plan = merkle.consistency_proof_plan(first, second)
    return merkle.assemble_proof(plan, _fetch_nodes(conn, plan.node_ids()))


def _witness_keys(conn: sqlite3.Connection) -> dict[str, list[Verifier]]:
    keys: dict[str, list[Verifier]] = {}
    for node_id, public in conn.execute(
        "SELECT node_id, public_key FROM peer_keys WHERE purpose = 'audit' ORDER BY rowid"
    ):
        keys.setdefault(node_id, []).append(witness_verifier(node_id, bytes(public)))
    return keys


def _cosignatures(conn: sqlite3.Connection) -> list[StoredCosignature]:
    return [
        StoredCosignature(size=int(size), witness=witness, line=line)
        for size, witness, line in conn.execute(
            "SELECT size, witness, line FROM audit_cosignatures ORDER BY size, witness"
        )
    ]


class AuditStore:
    def __init__(self, db: Database, log: AuditLog) -> None:
        self._db = db
        self._log = log

    # --- our checkpoints --------------------------------------------------------------------

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self._db.read(_latest)

    async def write_checkpoint(self, signer: Signer, now_ms: int) -> StoredCheckpoint | None:
        """Sign a checkpoint of the log as it is now, unless the latest already covers it."""

        def job(conn: sqlite3.Connection) -> StoredCheckpoint | None:
            size = tree_size(conn)
            latest = _latest(conn)
            if size == 0 or (latest is not None and latest.size >= size):
                return latest
            root = merkle.root_at(size, _fetch_nodes(conn, merkle.root_nodes(size)))
            note = make_checkpoint(signer, size, root)
            conn.execute(
                "INSERT INTO audit_checkpoints (size, root, note, created_at_ms)"
                " VALUES (?, ?, ?, ?)",
                (size, root, note, now_ms),
            )
            return StoredCheckpoint(size=size, root=root, note=note)

        return await self._db.write(job)

    async def tree_size(self) -> int:
        return await self._db.read(tree_size)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return await self._db.read(lambda conn: consistency_proof(conn, first, second))

    async def inclusion(self, index: int) -> tuple[bytes, list[bytes], StoredCheckpoint]:
        """Leaf `index`, its inclusion proof, and the latest checkpoint the proof leads to."""

        def job(conn: sqlite3.Connection) -> tuple[bytes, list[bytes], StoredCheckpoint]:
            conn.execute("BEGIN")
            try:
                latest = _latest(conn)
                if latest is None or index >= latest.size:
                    covered = 0 if latest is None else latest.size
                    raise NotFound(
                        f"leaf {index} is not covered by a signed checkpoint (the latest covers"
                        f" {covered} leaves); run `gateway audit checkpoint --new` first"
                    )
                row = conn.execute(
                    "SELECT leaf FROM audit_leaves WHERE seq = ?", (index,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"no audit leaf {index}; run `gateway audit verify`")
                plan = merkle.inclusion_proof_plan(index, latest.size)
                proof = merkle.assemble_proof(plan, _fetch_nodes(conn, plan.node_ids()))
                return bytes(row[0]), proof, latest
            finally:
                conn.execute("COMMIT")

        return await self._db.read(job)

    async def leaves(self, where: LeafFilter) -> list[LeafRecord]:
        clauses, args = [], []
        for column, op, value in (
            ("time_ms", ">=", where.since_ms),
            ("time_ms", "<", where.until_ms),
            ("notice_id", "=", where.notice_id),
            ("peer", "=", where.peer),
            ("action", "=", where.action),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                args.append(value)
        sql = "SELECT seq, leaf FROM audit_leaves"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY seq LIMIT ?"
        args.append(where.limit)

        def job(conn: sqlite3.Connection) -> list[LeafRecord]:
            return [LeafRecord(seq=int(s), leaf=bytes(b)) for s, b in conn.execute(sql, args)]

        return await self._db.read(job)

    # --- cosignatures of our checkpoints ----------------------------------------------------

    async def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        return await self._db.read(
            lambda conn: _checkpoint_row(
                conn.execute(
                    "SELECT size, root, note FROM audit_checkpoints WHERE size = ?", (size,)
                ).fetchone()
            )
        )

    async def add_cosignature(
        self, size: int, witness: str, line: str, timestamp: int, now_ms: int
    ) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO audit_cosignatures (size, witness, line, timestamp, received_at_ms)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (size, witness) DO UPDATE SET"
                " line = excluded.line, timestamp = excluded.timestamp,"
                " received_at_ms = excluded.received_at_ms"
                " WHERE excluded.timestamp > audit_cosignatures.timestamp",
                (size, witness, line, timestamp, now_ms),
            )

        await self._db.write(job)

    async def cosignatures(self, size: int) -> list[StoredCosignature]:
        return await self._db.read(lambda conn: [c for c in _cosignatures(conn) if c.size == size])

    # --- peers' checkpoints and witnessing --------------------------------------------------

    async def record_peer_checkpoint(
        self, peer: str, checkpoint: Checkpoint, note: bytes, source: str, now_ms: int
    ) -> bytes | None:
        """Keep a peer's verified checkpoint; returns the note we already held for the same
        size if its root differs (a fork), else None."""

        def job(conn: sqlite3.Connection) -> bytes | None:
            held = conn.execute(
                "SELECT root, note FROM audit_peer_checkpoints WHERE peer = ? AND size = ?",
                (peer, checkpoint.size),
            ).fetchone()
            if held is not None:
                return None if bytes(held[0]) == checkpoint.root_hash else bytes(held[1])
            conn.execute(
                "INSERT INTO audit_peer_checkpoints (peer, size, root, note, source,"
                " received_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (peer, checkpoint.size, checkpoint.root_hash, note, source, now_ms),
            )
            return None

        return await self._db.write(job)

    async def unchecked_peer_checkpoints(
        self, peer: str, up_to: int, limit: int
    ) -> list[StoredCheckpoint]:
        """Checkpoints a peer's receipts carried that no witnessing round has checked yet."""

        def job(conn: sqlite3.Connection) -> list[StoredCheckpoint]:
            rows = conn.execute(
                "SELECT size, root, note FROM audit_peer_checkpoints WHERE peer = ?"
                " AND checked_at_ms IS NULL AND size <= ? ORDER BY size DESC LIMIT ?",
                (peer, up_to, limit),
            ).fetchall()
            return [c for c in map(_checkpoint_row, rows) if c is not None]

        return await self._db.read(job)

    async def largest_peer_checkpoint(self, peer: str) -> StoredCheckpoint | None:
        """The largest checkpoint of `peer` we hold from any source (receipts or witnessing)."""

        def job(conn: sqlite3.Connection) -> StoredCheckpoint | None:
            row = conn.execute(
                "SELECT size, root, note FROM audit_peer_checkpoints WHERE peer = ?"
                " ORDER BY size DESC LIMIT 1",
                (peer,),
            ).fetchone()
            return None if row is None else _checkpoint_row(row)

        return await self._db.read(job)

    async def mark_peer_checked(self, peer: str, size: int, now_ms: int) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE audit_peer_checkpoints SET checked_at_ms = ? WHERE peer = ? AND size = ?",
                (now_ms, peer, size),
            )
        )

    async def witness_state(self, peer: str) -> WitnessState | None:
        return next((s for s in await self.witness_states() if s.peer == peer), None)

    async def witness_states(self) -> list[WitnessState]:
        def job(conn: sqlite3.Connection) -> list[WitnessState]:
            return [
                WitnessState(
                    peer=peer,
                    checkpoint=None
                    if size is None
                    else StoredCheckpoint(size=size, root=bytes(root), note=bytes(note)),
                    verified_at_ms=verified,
                    last_round_ms=last_round,
                    last_error=error,
                )
                for peer, size, root, note, verified, last_round, error in conn.execute(
                    "SELECT peer, size, root, note, verified_at_ms, last_round_ms, last_error"
                    " FROM audit_witness ORDER BY peer"
                )
            ]

        return await self._db.read(job)

    async def witnessed(
        self, peer: str, checkpoint: Checkpoint, note: bytes, now_ms: int, cosigned: bool
    ) -> None:
        """The peer's checkpoint is consistent with all we held: it becomes the one we hold."""

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO audit_peer_checkpoints (peer, size, root, note, source,"
                " received_at_ms) VALUES (?, ?, ?, ?, 'witness', ?)"
                " ON CONFLICT (peer, size) DO NOTHING",
                (peer, checkpoint.size, checkpoint.root_hash, note, now_ms),
            )
            conn.execute(
                "UPDATE audit_peer_checkpoints SET checked_at_ms = ?,"
                " cosigned_at_ms = CASE WHEN ? THEN ? ELSE cosigned_at_ms END"
                " WHERE peer = ? AND size = ?",
                (now_ms, cosigned, now_ms, peer, checkpoint.size),
            )
            conn.execute(
                "INSERT INTO audit_witness (peer, size, root, note, verified_at_ms,"
                " last_round_ms, last_error) VALUES (?, ?, ?, ?, ?, ?, NULL)"
                " ON CONFLICT (peer) DO UPDATE SET size = excluded.size, root = excluded.root,"
                " note = excluded.note, verified_at_ms = excluded.verified_at_ms,"
                " last_round_ms = excluded.last_round_ms, last_error = NULL",
                (peer, checkpoint.size, checkpoint.root_hash, note, now_ms, now_ms),
            )

        await self._db.write(job)

    async def witness_error(self, peer: str, error: str, now_ms: int) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO audit_witness (peer, last_round_ms, last_error) VALUES (?, ?, ?)"
                " ON CONFLICT (peer) DO UPDATE SET last_round_ms = excluded.last_round_ms,"
                " last_error = excluded.last_error",
                (peer, now_ms, error),
            )

        await self._db.write(job)

    async def raise_alarm(
        self, peer: str, kind: str, held_note: bytes, new_note: bytes, detail: str, now_ms: int
    ) -> int:
        """Store an alarm and its audit leaf in one transaction; returns the alarm's id."""

        def job(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO audit_alarms (peer, kind, raised_at_ms, held_note, new_note, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (peer, kind, now_ms, held_note, new_note, detail),
            )
            conn.execute(
                "INSERT INTO audit_witness (peer, last_round_ms, last_error) VALUES (?, ?, ?)"
                " ON CONFLICT (peer) DO UPDATE SET last_round_ms = excluded.last_round_ms,"
                " last_error = excluded.last_error",
                (peer, now_ms, f"ALARM {kind}: {detail}"),
            )
            self._log.append(
                conn,
                time_ms=now_ms,
                actor="system",
                action="audit_alarm",
                peer=peer,
                outcome=kind,
                digest=sha256(new_note),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

        return await self._db.write(job)

    async def alarms(self) -> list[Alarm]:
        def job(conn: sqlite3.Connection) -> list[Alarm]:
            return [
                Alarm(
                    id=r[0],
                    peer=r[1],
                    kind=r[2],
                    raised_at_ms=r[3],
                    held_note=bytes(r[4]),
                    new_note=bytes(r[5]),
                    detail=r[6],
                )
                for r in conn.execute(
                    "SELECT id, peer, kind, raised_at_ms, held_note, new_note, detail"
                    " FROM audit_alarms ORDER BY id"
                )
            ]

        return await self._db.read(job)


# --- offline: verify and export -----------------------------------------------------------


def _open_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise ConfigError(f"no database at {path}; is this a node's data directory?")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("BEGIN")  # one snapshot for the whole run, while the node goes on writing
    except sqlite3.Error as exc:
        raise AuditFailure(f"cannot read the database {path}: {exc}") from exc
    return conn


def _stored_checkpoints(conn: sqlite3.Connection) -> list[StoredCheckpoint]:
    rows = conn.execute("SELECT size, root, note FROM audit_checkpoints ORDER BY size")
    return [c for c in map(_checkpoint_row, rows) if c is not None]


def verify_database(
    path: Path,
    log: Verifier,
    *,
    on_progress: Callable[[Any], None] | None = None,
) -> LogSummary:
    """`gateway audit verify`: check every leaf, node, checkpoint and cosignature; raise
    AuditFailure naming the first bad leaf or checkpoint."""
    conn = _open_readonly(path)
    try:
        checkpoints = open_checkpoints(_stored_checkpoints(conn), log)

        def nodes(level: int) -> Iterator[tuple[int, bytes]]:
            for idx, h in conn.execute(
                "SELECT idx, hash FROM audit_nodes WHERE level = ? ORDER BY idx", (level,)
            ):
                yield int(idx), bytes(h)

        total = tree_size(conn)
        checker = LogChecker(
            checkpoints=checkpoints, stored_nodes=nodes, on_progress=on_progress, total=total
        )
        columns = ", ".join(LEAF_COLUMNS)
        for row in conn.execute(
            f"SELECT seq, leaf, leaf_hash, {columns} FROM audit_leaves ORDER BY seq"  # noqa: S608
        ):
            checker.add(row[0], bytes(row[1]), bytes(row[2]), row[3:])
        summary = checker.finish()
        # The proofs peers are served, between each pair of consecutive checkpoints.
        sizes = sorted(checkpoints)
        for first, second in itertools.pairwise(sizes):
            if first == 0:
                continue
            try:
                merkle.verify_consistency(
                    first,
                    second,
                    consistency_proof(conn, first, second),
                    checkpoints[first].root_hash,
                    checkpoints[second].root_hash,
                )
            except merkle.ProofError as exc:
                raise AuditFailure(
                    f"checkpoint at size {second} is not consistent with size {first}: {exc}",
                    checkpoint=second,
                ) from exc
        count, witnesses = check_cosignatures(checkpoints, _cosignatures(conn), _witness_keys(conn))
    except sqlite3.DatabaseError as exc:
        raise AuditFailure(f"the database {path} is damaged: {exc}") from exc
    finally:
        conn.close()
    return LogSummary(
        size=summary.size,
        root=summary.root,
        checkpoints=summary.checkpoints,
        latest_checkpoint=summary.latest_checkpoint,
        uncovered=summary.uncovered,
        cosignatures=count,
        witnesses=witnesses,
    )


def export_bundle(path: Path, node_id: str, log: Verifier, out: IO[bytes]) -> Mapping[str, int]:
    """Write the log as an export bundle (gateway/core/audit_verify.py) to `out`."""
    conn = _open_readonly(path)
    try:
        checkpoints = _stored_checkpoints(conn)
        cosignatures = _cosignatures(conn)
        size = tree_size(conn)
        out.write(
            bundle_header(
                node_id=node_id,
                log=log,
                witnesses=_witness_keys(conn),
                leaves=size,
                checkpoints=len(checkpoints),
                cosignatures=len(cosignatures),
            )
        )
        for cp in checkpoints:
            out.write(bundle_checkpoint(cp))
        for cosig in cosignatures:
            out.write(bundle_cosignature(cosig))
        for seq, leaf in conn.execute("SELECT seq, leaf FROM audit_leaves ORDER BY seq"):
            out.write(bundle_leaf(int(seq), bytes(leaf)))
    except sqlite3.DatabaseError as exc:
        raise AuditFailure(f"the database {path} is damaged: {exc}") from exc
    finally:
        conn.close()
    return {"leaves": size, "checkpoints": len(checkpoints), "cosignatures": len(cosignatures)}
