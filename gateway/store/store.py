"""The node's store: peers, our notices, outbox, inbox, with payloads encrypted at rest.

Each method is one transaction. Payloads are encrypted under a per-notice data key before they
reach SQLite (see gateway/core/at_rest.py); only this module knows the storage key. The class is
the small interface a PostgreSQL backend would implement for nodes that outgrow one machine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.core import at_rest
from gateway.core.audit import MAX_REASON
from gateway.core.card import NodeCard
from gateway.core.crypto import sha256
from gateway.core.directory import Directory, PeerKey, PeerRecord
from gateway.core.keys import key_id
from gateway.errors import ConfigError, NotFound, Replayed
from gateway.store.audit import AuditLog
from gateway.store.db import Database
from gateway.store.lifecycle import LifecycleStore

__all__ = ["InboxEntry", "NoticeRow", "OutboxItem", "OutboxRow", "Store"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """One envelope to one peer, as the sender queues it."""

    message_id: bytes
    peer: str
    notice_id: str
    roles: str
    envelope: bytes
    header: bytes
    created_at_ms: int
    expires_at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """A queued envelope due for (another) delivery attempt."""

    message_id: bytes
    peer: str
    envelope: bytes
    header: bytes
    expires_at_ms: int
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeRow:
    notice_id: str
    kind: str
    sop_id: str
    sop_version: int
    state: str
    created_at_ms: int
    drafter: str
    approvals_required: int = 0
    approvers: tuple[str, ...] = ()
    plan: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (node id, roles) as drafted
    related_notice_id: str | None = None
    dispatch_deadline_ms: int | None = None
    dispatched_at_ms: int | None = None
    retention_until_ms: int | None = None
    shredded: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientState:
    """One recipient of a notice we sent: its SOP state and its envelope's delivery."""

    peer: str
    roles: str
    message_id: bytes
    state: str  # gateway/core/lifecycle.py RECIPIENT_STATES
    attempts: int
    last_error: str | None
    delivered_at_ms: int | None
    expires_at_ms: int
    delivery: str = "queued"  # the outbox state: queued, delivered, expired, rejected
    ack_deadline_ms: int | None = None
    acknowledged_at_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxEntry:
    id: int
    sender: str
    message_id: bytes
    notice_id: str
    kind: str
    sop_id: str
    sop_version: int
    roles: str
    received_at_ms: int
    shredded: bool
    state: str = "received"  # gateway/core/lifecycle.py INBOX_STATES
    corrected_at_ms: int | None = None
    retention_until_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewInboxRow:
    sender: str
    message_id: bytes
    notice_id: str
    kind: str
    sop_id: str
    sop_version: int
    roles: str
    header: bytes
    header_digest: bytes
    received_at_ms: int
    receipt: bytes
    payload: bytes
    retention_until_ms: int | None = None
    # A follow-up's effect on a notice it refers to (response or amendment related_notice_id):
    # an acknowledgement of one of ours, a correction or withdrawal of one we received.
    related_notice_id: str = ""
    # For a correction: the original payload -> the corrected payload.
    amend: Callable[[bytes], bytes] | None = None


class Store(LifecycleStore):
    def __init__(self, db: Database, storage_key: bytes, version_conn: sqlite3.Connection) -> None:
        self._db = db
        self._storage_key = storage_key
        self._version_conn = version_conn
        self.audit = AuditLog()

    @classmethod
    async def open(cls, path: Path, storage_key: bytes) -> Store:
        db = await Database.open(path)
        # A small read-only connection used on the event loop itself: asking whether the
        # directory changed is one indexed read (microseconds in WAL mode, where readers never
        # wait for writers), much cheaper than a hop to the database thread on every envelope.
        version_conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        return cls(db, storage_key, version_conn)

    async def close(self) -> None:
        self._version_conn.close()
        await self._db.close()

    @property
    def db(self) -> Database:
        """The database, shared with gateway/store/audit_store.py (same group-commit writer)."""
        return self._db

    # --- data keys --------------------------------------------------------------------------

    def _new_data_key(self, conn: sqlite3.Connection) -> tuple[int, bytes]:
        data_key = at_rest.new_data_key()
        cur = conn.execute("INSERT INTO data_keys (wrapped) VALUES (NULL)")
        dk_id = cur.lastrowid
        assert dk_id is not None
        wrapped = at_rest.wrap_key(self._storage_key, data_key, str(dk_id).encode())
        conn.execute("UPDATE data_keys SET wrapped = ? WHERE id = ?", (wrapped, dk_id))
        return dk_id, data_key

    def _decrypt(self, dk_id: int, wrapped: bytes | None, payload: bytes | None) -> bytes | None:
        if wrapped is None or payload is None:
            return None  # shredded
        data_key = at_rest.unwrap_key(self._storage_key, wrapped, str(dk_id).encode())
        return at_rest.open_payload(data_key, payload, str(dk_id).encode())

    # --- peers ------------------------------------------------------------------------------

    async def add_peer(
        self, card: NodeCard, card_bytes: bytes, now_ms: int, actor: str = "operator"
    ) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM peers WHERE node_id = ?", (card.node_id,)).fetchone():
                raise ConfigError(f"peer {card.node_id} is already in the directory")
            new_keys = [
                ("signing", card.signing_key),
                ("encryption", card.encryption_key),
                ("audit", card.audit_key),
            ]
            for purpose, public in new_keys:
                row = conn.execute(
                    "SELECT node_id FROM peer_keys WHERE key_id = ?", (key_id(public),)
                ).fetchone()
                if row:
                    raise ConfigError(f"the card's {purpose} key is already known (for {row[0]})")
            conn.execute(
                "INSERT INTO peers (node_id, country, name, endpoint, card, fingerprint,"
                " added_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    card.node_id,
                    card.country,
                    card.name,
                    card.endpoint,
                    card_bytes,
                    card.fingerprint,
                    now_ms,
                ),
            )
            conn.executemany(
                "INSERT INTO peer_keys (key_id, node_id, purpose, public_key, added_at_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                [(key_id(pk), card.node_id, purpose, pk, now_ms) for purpose, pk in new_keys],
            )
            _bump_directory(conn)
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=actor,
                action="peer_added",
                peer=card.node_id,
                digest=sha256(card_bytes),
            )

        await self._db.write(job)

    async def revoke(self, node_or_key: str, now_ms: int, actor: str = "operator") -> str:
        """Revoke a whole peer (by node id) or one key (by hex key id); says what it did."""

        def job(conn: sqlite3.Connection) -> str:
            if conn.execute("SELECT 1 FROM peers WHERE node_id = ?", (node_or_key,)).fetchone():
                conn.execute(
                    "UPDATE peers SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE node_id = ?",
                    (now_ms, node_or_key),
                )
                conn.execute(
                    "UPDATE peer_keys SET revoked_at_ms = coalesce(revoked_at_ms, ?)"
                    " WHERE node_id = ?",
                    (now_ms, node_or_key),
                )
                _bump_directory(conn)
                self.audit.append(
                    conn,
                    time_ms=now_ms,
                    actor=actor,
                    action="peer_revoked",
                    peer=node_or_key,
                    outcome="all_keys",
                )
                return f"revoked peer {node_or_key} and all its keys"
            try:
                kid = bytes.fromhex(node_or_key)
            except ValueError:
                kid = b""
            row = conn.execute(
                "SELECT node_id, purpose FROM peer_keys WHERE key_id = ?", (kid,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no peer or key id {node_or_key!r} in the directory")
            conn.execute(
                "UPDATE peer_keys SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE key_id = ?",
                (now_ms, kid),
            )
            _bump_directory(conn)
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=actor,
                action="peer_revoked",
                peer=row[0],
                outcome=f"{row[1]}_key",
                digest=kid,
            )
            return f"revoked {row[1]} key {node_or_key} of {row[0]}"

        return await self._db.write(job)

    def directory_version(self) -> int:
        """Bumped by every peer or key change, from any process; read without a thread hop."""
        row = self._version_conn.execute(
            "SELECT value FROM meta WHERE key = 'directory_version'"
        ).fetchone()
        return int(row[0])

    async def load_directory(self) -> tuple[int, Directory]:
        def job(conn: sqlite3.Connection) -> tuple[int, Directory]:
            conn.execute("BEGIN")
            try:
                (version,) = conn.execute(
                    "SELECT value FROM meta WHERE key = 'directory_version'"
                ).fetchone()
                keys: dict[str, list[PeerKey]] = {}
                for kid, node, purpose, public, revoked in conn.execute(
                    "SELECT key_id, node_id, purpose, public_key, revoked_at_ms FROM peer_keys"
                    " ORDER BY added_at_ms, rowid"
                ):
                    keys.setdefault(node, []).append(
                        PeerKey(
                            key_id=kid,
                            node_id=node,
                            purpose=purpose,
                            public_key=public,
                            revoked=revoked is not None,
                        )
                    )
                peers = [
                    PeerRecord(
                        node_id=node,
                        country=country,
                        name=name,
                        endpoint=endpoint,
                        fingerprint=fp,
                        revoked=revoked is not None,
                        keys=tuple(keys.get(node, ())),
                    )
                    for node, country, name, endpoint, fp, revoked in conn.execute(
                        "SELECT node_id, country, name, endpoint, fingerprint, revoked_at_ms"
                        " FROM peers"
                    )
                ]
            finally:
                conn.execute("COMMIT")
            return int(version), Directory.of(peers)

        return await self._db.read(job)

    # --- our notices and the outbox ---------------------------------------------------------

    async def create_notice(
        self, notice: NoticeRow, payload: bytes, outbox: list[OutboxRow]
    ) -> None:
        """Store a notice (payload encrypted) and queue its envelopes, in one transaction."""

        def job(conn: sqlite3.Connection) -> None:
            dk_id, data_key = self._new_data_key(conn)
            sealed = at_rest.seal_payload(data_key, payload, str(dk_id).encode())
            conn.execute(
                "INSERT INTO notices (notice_id, kind, sop_id, sop_version, state, created_at_ms,"
                " drafter, data_key_id, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    notice.notice_id,
                    notice.kind,
                    notice.sop_id,
                    notice.sop_version,
                    notice.state,
                    notice.created_at_ms,
                    notice.drafter,
                    dk_id,
                    sealed,
                ),
            )
            _insert_outbox(conn, outbox)
            conn.executemany(
                "INSERT INTO recipients (notice_id, peer, roles, state) VALUES (?, ?, ?, 'queued')",
                [(notice.notice_id, r.peer, r.roles) for r in outbox],
            )
            for r in outbox:
                self.audit.append(
                    conn,
                    time_ms=notice.created_at_ms,
                    actor=notice.drafter,
                    action="notice_dispatched",
                    notice_id=notice.notice_id,
                    message_id=r.message_id,
                    peer=r.peer,
                    outcome=r.roles.replace(",", "+"),
                    digest=sha256(r.header),
                )

        await self._db.write(job)

    async def notice(self, notice_id: str) -> tuple[NoticeRow, list[RecipientState]]:
        def job(conn: sqlite3.Connection) -> tuple[NoticeRow, list[RecipientState]]:
            row = conn.execute(
                "SELECT n.notice_id, n.kind, n.sop_id, n.sop_version, n.state, n.created_at_ms,"
                " n.drafter, n.approvals_required, n.plan, n.related_notice_id,"
                " n.dispatch_deadline_ms, n.dispatched_at_ms, n.retention_until_ms,"
                " d.wrapped IS NULL FROM notices n JOIN data_keys d ON d.id = n.data_key_id"
                " WHERE n.notice_id = ?",
                (notice_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"no notice {notice_id!r} on this node")
            recipients = [
                RecipientState(
                    peer=r[0],
                    roles=r[1],
                    message_id=r[2],
                    state=r[8] or r[3],
                    attempts=r[4],
                    last_error=r[5],
                    delivered_at_ms=r[6],
                    expires_at_ms=r[7],
                    delivery=r[3],
                    ack_deadline_ms=r[9],
                    acknowledged_at_ms=r[10],
                )
                for r in conn.execute(
                    "SELECT o.peer, o.roles, o.message_id, o.state, o.attempts, o.last_error,"
                    " o.delivered_at_ms, o.expires_at_ms, r.state, r.ack_deadline_ms,"
                    " r.acknowledged_at_ms FROM outbox o LEFT JOIN recipients r"
                    " ON r.notice_id = o.notice_id AND r.peer = o.peer WHERE o.notice_id = ?"
                    " ORDER BY o.peer",
                    (notice_id,),
                )
            ]
            approvers = tuple(
                a
                for (a,) in conn.execute(
                    "SELECT approver FROM approvals WHERE notice_id = ?"
                    " ORDER BY approved_at_ms, approver",
                    (notice_id,),
                )
            )
            plan = tuple((str(node), tuple(roles)) for node, roles in json.loads(row[8] or "[]"))
            return NoticeRow(
                notice_id=row[0],
                kind=row[1],
                sop_id=row[2],
                sop_version=row[3],
                state=row[4],
                created_at_ms=row[5],
                drafter=row[6],
                approvals_required=row[7],
                approvers=approvers,
                plan=plan,
                related_notice_id=row[9],
                dispatch_deadline_ms=row[10],
                dispatched_at_ms=row[11],
                retention_until_ms=row[12],
                shredded=bool(row[13]),
            ), recipients

        return await self._db.read(job)

    async def due_outbox(
        self, now_ms: int, limit: int, skip: Set[tuple[bytes, str]] = frozenset()
    ) -> list[OutboxItem]:
        """Queued rows due for an attempt, leaving out `skip` (rows already in flight).

        Reads the keys first and the envelopes only of rows not skipped, so polling while
        thousands of envelopes are in flight stays cheap.
        """

        def job(conn: sqlite3.Connection) -> list[OutboxItem]:
            keys = [
                (bytes(m), p)
                for m, p in conn.execute(
                    "SELECT message_id, peer FROM outbox WHERE state = 'queued'"
                    " AND next_attempt_ms <= ? ORDER BY next_attempt_ms",
                    (now_ms,),
                )
                if (bytes(m), p) not in skip
            ][:limit]
            items = []
            for message_id, peer in keys:
                row = conn.execute(
                    "SELECT envelope, header, expires_at_ms, attempts FROM outbox"
                    " WHERE message_id = ? AND peer = ? AND state = 'queued'",
                    (message_id, peer),
                ).fetchone()
                if row is not None:
                    items.append(
                        OutboxItem(
                            message_id=message_id,
                            peer=peer,
                            envelope=row[0],
                            header=row[1],
                            expires_at_ms=row[2],
                            attempts=row[3],
                        )
                    )
            return items

        return await self._db.read(job)

    async def next_outbox_attempt_ms(self) -> int | None:
        def job(conn: sqlite3.Connection) -> int | None:
            (value,) = conn.execute(
                "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'queued'"
            ).fetchone()
            return None if value is None else int(value)

        return await self._db.read(job)

    async def mark_delivered(
        self, message_id: bytes, peer: str, receipt: bytes, delivered_at_ms: int, now_ms: int
    ) -> None:
        def job(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "UPDATE outbox SET state = 'delivered', receipt = ?, delivered_at_ms = ?,"
                " last_error = NULL, attempts = attempts + 1"
                " WHERE message_id = ? AND peer = ? AND state = 'queued'",
                (receipt, delivered_at_ms, message_id, peer),
            )
            if changed.rowcount:
                notice_id = _outbox_notice(conn, message_id)
                self._recipient_event(conn, notice_id, peer, "deliver")
                self.audit.append(
                    conn,
                    time_ms=now_ms,
                    actor="system",
                    action="envelope_delivered",
                    notice_id=notice_id,
                    message_id=message_id,
                    peer=peer,
                    digest=sha256(receipt),
                )

        await self._db.write(job)

    async def mark_retry(
        self, message_id: bytes, peer: str, next_attempt_ms: int, error: str
    ) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?"
                " WHERE message_id = ? AND peer = ? AND state = 'queued'",
                (next_attempt_ms, error, message_id, peer),
            )

        await self._db.write(job)

    async def mark_final(
        self, message_id: bytes, peer: str, state: str, error: str, code: str, now_ms: int
    ) -> None:
        """End delivery of one envelope to one peer as `expired` or `rejected` (with `code`)."""

        def job(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?"
                " WHERE message_id = ? AND peer = ? AND state = 'queued'",
                (state, error, message_id, peer),
            )
            if changed.rowcount:
                notice_id = _outbox_notice(conn, message_id)
                self._recipient_event(
                    conn, notice_id, peer, "expire" if state == "expired" else "reject"
                )
                self.audit.append(
                    conn,
                    time_ms=now_ms,
                    actor="system",
                    action="envelope_expired"
                    if state == "expired"
                    else "envelope_rejected_by_peer",
                    notice_id=notice_id,
                    message_id=message_id,
                    peer=peer,
                    outcome=code,
                )

        await self._db.write(job)

    async def outbox_envelope(self, message_id: bytes) -> bytes:
        def job(conn: sqlite3.Connection) -> bytes:
            row = conn.execute(
                "SELECT envelope FROM outbox WHERE message_id = ? LIMIT 1", (message_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no outgoing message {message_id.hex()} on this node")
            return bytes(row[0])

        return await self._db.read(job)

    # --- inbox ------------------------------------------------------------------------------

    async def accept(self, row: NewInboxRow) -> tuple[bool, bytes]:
        """Store a received envelope once; returns (is_new, the receipt to answer with).

        A second delivery of the same envelope gets the original receipt back; a different
        envelope reusing a (sender, message id) pair is a replay and raises Replayed.
        """

        def job(conn: sqlite3.Connection) -> tuple[bool, bytes]:
            existing = conn.execute(
                "SELECT header_digest, receipt FROM inbox WHERE sender = ? AND message_id = ?",
                (row.sender, row.message_id),
            ).fetchone()
            if existing is not None:
                if existing[0] != row.header_digest:
                    raise Replayed("a different envelope with this message id was received")
                return False, bytes(existing[1])
            dk_id, data_key = self._new_data_key(conn)
            sealed = at_rest.seal_payload(data_key, row.payload, str(dk_id).encode())
            conn.execute(
                "INSERT INTO inbox (sender, message_id, notice_id, kind, sop_id, sop_version,"
                " roles, header, header_digest, received_at_ms, receipt, data_key_id, payload,"
                " retention_until_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.sender,
                    row.message_id,
                    row.notice_id,
                    row.kind,
                    row.sop_id,
                    row.sop_version,
                    row.roles,
                    row.header,
                    row.header_digest,
                    row.received_at_ms,
                    row.receipt,
                    dk_id,
                    sealed,
                    row.retention_until_ms,
                ),
            )
            self.audit.append(
                conn,
                time_ms=row.received_at_ms,
                actor=row.sender,
                action="envelope_received",
                notice_id=row.notice_id,
                message_id=row.message_id,
                peer=row.sender,
                outcome=row.roles.replace(",", "+"),
                digest=row.header_digest,
            )
            self._follow_up(conn, row)
            return True, row.receipt

        return await self._db.write(job)

    def _follow_up(self, conn: sqlite3.Connection, row: NewInboxRow) -> None:
        """What a received follow-up does to the notice it refers to, in the same transaction."""
        if not row.related_notice_id:
            return
        if row.kind == "acknowledgement":
            self._record_acknowledgement(
                conn,
                sender=row.sender,
                related=row.related_notice_id,
                ack_notice_id=row.notice_id,
                now_ms=row.received_at_ms,
            )
        elif row.kind in ("correction", "withdrawal"):
            self._record_amendment(
                conn,
                sender=row.sender,
                related=row.related_notice_id,
                kind=row.kind,
                amend=row.amend,
                amendment_id=row.notice_id,
                now_ms=row.received_at_ms,
            )

    async def inbox(self, limit: int = 100) -> list[InboxEntry]:
        def job(conn: sqlite3.Connection) -> list[InboxEntry]:
            return [
                _inbox_entry(r)
                for r in conn.execute(
                    # Only constant column lists are formatted in; values are bound.
                    f"SELECT {_INBOX_COLUMNS} FROM inbox i JOIN data_keys d"  # noqa: S608
                    " ON d.id = i.data_key_id ORDER BY i.id DESC LIMIT ?",
                    (limit,),
                )
            ]

        return await self._db.read(job)

    async def inbox_item(
        self, ref: str, *, actor: str, now_ms: int
    ) -> tuple[InboxEntry, bytes | None]:
        """A received notice by inbox number, notice id or hex message id, with its payload.

        Opening a payload is an audited event, recorded in the same transaction as the read.
        The payload is None once retention has destroyed its data key.
        """

        def job(conn: sqlite3.Connection) -> tuple[InboxEntry, bytes | None]:
            where, arg = _inbox_ref(ref)
            rows = conn.execute(
                f"SELECT {_INBOX_COLUMNS}, i.data_key_id, d.wrapped, i.payload FROM inbox i"  # noqa: S608
                f" JOIN data_keys d ON d.id = i.data_key_id WHERE {where} ORDER BY i.id DESC",
                (arg,),
            ).fetchall()
            if not rows:
                raise NotFound(f"nothing in the inbox matches {ref!r}")
            if len(rows) > 1:
                raise NotFound(f"{ref!r} matches {len(rows)} messages; give the inbox number")
            *columns, dk_id, wrapped, payload = rows[0]
            entry = _inbox_entry(tuple(columns))
            # A withdrawn notice is hidden: its sender asked every recipient to stop using it.
            hidden = entry.state == "withdrawn"
            plain = None if hidden else self._decrypt(dk_id, wrapped, payload)
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=actor,
                action="notice_opened",
                notice_id=entry.notice_id,
                message_id=entry.message_id,
                peer=entry.sender,
                outcome="ok" if plain is not None else "withdrawn" if hidden else "shredded",
            )
            return entry, plain

        return await self._db.write(job)

    async def record_refusal(
        self, *, code: str, reason: str, now_ms: int, sender: str = "", message_id: bytes = b""
    ) -> None:
        """An incoming envelope was refused: it leaves nothing but this audit leaf."""

        def job(conn: sqlite3.Connection) -> None:
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=sender or "unknown",
                action="envelope_refused",
                message_id=message_id,
                peer=sender,
                outcome=code,
                # Bounded and printable: the reason may quote unauthenticated input.
                reason="".join(c if c.isprintable() else "?" for c in reason)[:MAX_REASON],
            )

        await self._db.write(job)


_INBOX_COLUMNS = (
    "i.id, i.sender, i.message_id, i.notice_id, i.kind, i.sop_id, i.sop_version, i.roles,"
    " i.received_at_ms, d.wrapped IS NULL, i.state, i.corrected_at_ms, i.retention_until_ms"
)


def _inbox_entry(r: Sequence[Any]) -> InboxEntry:
    return InboxEntry(
        id=int(r[0]),
        sender=str(r[1]),
        message_id=bytes(r[2]),
        notice_id=str(r[3]),
        kind=str(r[4]),
        sop_id=str(r[5]),
        sop_version=int(r[6]),
        roles=str(r[7]),
        received_at_ms=int(r[8]),
        shredded=bool(r[9]),
        state=str(r[10]),
        corrected_at_ms=r[11],
        retention_until_ms=r[12],
    )


def _inbox_ref(ref: str) -> tuple[str, object]:
    if ref.isdigit():
        return "i.id = ?", int(ref)
    if len(ref) == 32:
        try:
            return "i.message_id = ?", bytes.fromhex(ref)
        except ValueError:
            pass
    return "i.notice_id = ?", ref


def _outbox_notice(conn: sqlite3.Connection, message_id: bytes) -> str:
    row = conn.execute(
        "SELECT notice_id FROM outbox WHERE message_id = ? LIMIT 1", (message_id,)
    ).fetchone()
    return "" if row is None else str(row[0])


def _bump_directory(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'directory_version'")


def _insert_outbox(conn: sqlite3.Connection, rows: list[OutboxRow]) -> None:
    conn.executemany(
        "INSERT INTO outbox (message_id, peer, notice_id, roles, envelope, header,"
        " created_at_ms, expires_at_ms, state, next_attempt_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
        [
            (
                r.message_id,
                r.peer,
                r.notice_id,
                r.roles,
                r.envelope,
                r.header,
                r.created_at_ms,
                r.expires_at_ms,
                r.created_at_ms,
            )
            for r in rows
        ],
    )
