"""The audit log's storage: leaves appended inside the caller's transaction.

A leaf is written by the same transaction as the change it records (an event without its leaf,
or a leaf without its event, cannot be committed), so every store job that changes state calls
`AuditLog.append(conn, ...)` before it returns. Each append also persists the Merkle nodes it
completes (gateway/core/merkle.py), so any proof later costs O(log n) node reads.

The compact range (the right edge of the tree) is cached between appends and checked against
the last stored leaf before use: another process (the CLI) may have appended, or a rolled-back
savepoint may have discarded an append the cache saw.
"""

from __future__ import annotations

import sqlite3

from gateway.core import merkle
from gateway.core.audit import AuditLeaf, encode_leaf

__all__ = ["AuditLog"]


class AuditLog:
    def __init__(self) -> None:
        self._range = merkle.CompactRange()
        self._last_hash = b""

    def append(
        self,
        conn: sqlite3.Connection,
        *,
        time_ms: int,
        actor: str,
        action: str,
        notice_id: str = "",
        message_id: bytes = b"",
        peer: str = "",
        outcome: str = "ok",
        digest: bytes = b"",
        reason: str = "",
    ) -> int:
        """Append one leaf in the current transaction; returns its sequence number."""
        compact = self._current(conn)
        leaf = AuditLeaf(
            seq=compact.size,
            time_ms=time_ms,
            actor=actor,
            action=action,
            notice_id=notice_id,
            message_id=message_id.hex(),
            peer=peer,
            outcome=outcome,
            digest=digest.hex(),
            reason=reason,
        )
        data = encode_leaf(leaf)
        leaf_hash = merkle.leaf_hash(data)
        new_range, completed = compact.append([leaf_hash])
        conn.execute(
            "INSERT INTO audit_leaves (seq, time_ms, actor, action, notice_id, message_id, peer,"
            " outcome, leaf, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                leaf.seq,
                time_ms,
                actor,
                action,
                notice_id,
                leaf.message_id,
                peer,
                outcome,
                data,
                leaf_hash,
            ),
        )
        conn.executemany(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(node.level, node.index, h) for node, h in completed],
        )
        self._range, self._last_hash = new_range, leaf_hash
        return leaf.seq

    def _current(self, conn: sqlite3.Connection) -> merkle.CompactRange:
        row = conn.execute(
            "SELECT seq, leaf_hash FROM audit_leaves ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        size, last = (0, b"") if row is None else (row[0] + 1, bytes(row[1]))
        if size == self._range.size and last == self._last_hash:
            return self._range
        hashes = []
        for node in merkle.root_nodes(size):
            found = conn.execute(
                "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?", (node.level, node.index)
            ).fetchone()
            if found is None:
                raise sqlite3.DatabaseError(
                    f"audit node {node} is missing; run `gateway audit verify`"
                )
            hashes.append(bytes(found[0]))
        self._range, self._last_hash = merkle.CompactRange(size=size, hashes=tuple(hashes)), last
        return self._range


def tree_size(conn: sqlite3.Connection) -> int:
    (size,) = conn.execute("SELECT coalesce(max(seq) + 1, 0) FROM audit_leaves").fetchone()
    return int(size)
