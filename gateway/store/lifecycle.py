"""The store's side of the notice lifecycle: drafts, approvals, recipients, deadlines, retention.

A mixin of `Store` (gateway/store/store.py), split out for size. As everywhere in the store,
each method is one transaction, every state it changes goes through gateway/core/lifecycle.py,
and every change appends its audit leaf in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.core import at_rest
from gateway.core import lifecycle as lc
from gateway.core.crypto import sha256
from gateway.errors import NotAllowed, NotFound, StateError
from gateway.store.audit import AuditLog
from gateway.store.db import Database

__all__ = [
    "Approval",
    "DeadlineRun",
    "DraftRow",
    "Escalation",
    "LifecycleStore",
    "Purged",
    "StoredDraft",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftRow:
    """A notice being drafted: its metadata (the payload is passed beside it)."""

    notice_id: str
    kind: str
    sop_id: str
    sop_version: int
    created_at_ms: int
    drafter: str
    approvals_required: int
    plan: str  # JSON: [[node id, roles], ...]: metadata only
    escalate_to: str = ""
    related_notice_id: str | None = None
    dispatch_deadline_ms: int | None = None
    ack_within_ms: int | None = None
    retention_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDraft:
    """A stored notice of ours with its decrypted payload (for dispatch)."""

    notice_id: str
    kind: str
    state: str
    drafter: str
    plan: tuple[tuple[str, tuple[str, ...]], ...]
    approvers: tuple[str, ...]
    approvals_required: int
    related_notice_id: str | None
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    notice_id: str
    state: str
    approvers: tuple[str, ...]
    approvals_required: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation:
    id: int
    notice_id: str
    peer: str
    deadline: str  # "dispatch" or "acknowledge"
    due_at_ms: int
    raised_at_ms: int
    escalate_to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineRun:
    raised: tuple[Escalation, ...]
    next_due_ms: int | None  # the next deadline still to come, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class Purged:
    side: str  # "sent" or "received"
    notice_id: str
    peer: str  # the sender, for a received notice
    retention_until_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """A recipient as dispatch records it."""

    peer: str
    roles: str
    ack_deadline_ms: int | None


_NOTICE_COLUMNS = (
    "notice_id, kind, state, drafter, plan, approvals_required, related_notice_id,"
    " data_key_id, payload"
)


class LifecycleStore:
    _db: Database
    _storage_key: bytes
    _version_conn: sqlite3.Connection
    audit: AuditLog

    def _new_data_key(self, conn: sqlite3.Connection) -> tuple[int, bytes]:
        raise NotImplementedError

    def _decrypt(self, dk_id: int, wrapped: bytes | None, payload: bytes | None) -> bytes | None:
        raise NotImplementedError

    # --- drafting and approval ----------------------------------------------------------------

    async def create_draft(self, row: DraftRow, payload: bytes) -> str:
        """Store a new notice as a draft and submit it; returns its state after submission."""

        def job(conn: sqlite3.Connection) -> str:
            dk_id, data_key = self._new_data_key(conn)
            sealed = at_rest.seal_payload(data_key, payload, str(dk_id).encode())
            event: lc.NoticeEvent = "submit" if row.approvals_required else "skip_approval"
            state = lc.notice_next("draft", event, row.notice_id)
            conn.execute(
                "INSERT INTO notices (notice_id, kind, sop_id, sop_version, state, created_at_ms,"
                " drafter, data_key_id, payload, approvals_required, related_notice_id, plan,"
                " escalate_to, dispatch_deadline_ms, ack_within_ms, retention_until_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.notice_id,
                    row.kind,
                    row.sop_id,
                    row.sop_version,
                    state,
                    row.created_at_ms,
                    row.drafter,
                    dk_id,
                    sealed,
                    row.approvals_required,
                    row.related_notice_id,
                    row.plan,
                    row.escalate_to,
                    row.dispatch_deadline_ms,
                    row.ack_within_ms,
                    row.created_at_ms + row.retention_ms,
                ),
            )
            self.audit.append(
                conn,
                time_ms=row.created_at_ms,
                actor=row.drafter,
                action="notice_drafted",
                notice_id=row.notice_id,
                outcome=state,
                digest=sha256(row.plan.encode()),
            )
            return state

        return await self._db.write(job)

    async def approve(self, notice_id: str, approver: str, now_ms: int) -> Approval:
        """Record one approval (four-eyes rules in gateway/core/lifecycle.py)."""

        def job(conn: sqlite3.Connection) -> Approval:
            state, drafter, required = _notice_head(conn, notice_id)
            approvers = _approvers(conn, notice_id)
            event = lc.approval_event(
                notice_id=notice_id,
                state=state,
                drafter=drafter,
                approver=approver,
                approvers=approvers,
                required=required,
            )
            new_state = lc.notice_next(state, event, notice_id)
            conn.execute(
                "INSERT INTO approvals (notice_id, approver, approved_at_ms) VALUES (?, ?, ?)",
                (notice_id, approver, now_ms),
            )
            conn.execute("UPDATE notices SET state = ? WHERE notice_id = ?", (new_state, notice_id))
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=approver,
                action="notice_approved",
                notice_id=notice_id,
                outcome=new_state,
            )
            return Approval(
                notice_id=notice_id,
                state=new_state,
                approvers=(*approvers, approver),
                approvals_required=required,
            )

        return await self._db.write(job)

    async def stored_notice(self, notice_id: str) -> StoredDraft:
        """One of our notices with its payload (None-payload notices are refused: shredded)."""

        def job(conn: sqlite3.Connection) -> StoredDraft:
            row = conn.execute(
                f"SELECT {_NOTICE_COLUMNS}, d.wrapped FROM notices n"  # noqa: S608
                " JOIN data_keys d ON d.id = n.data_key_id WHERE n.notice_id = ?",
                (notice_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"no notice {notice_id!r} on this node")
            plain = self._decrypt(row[7], row[9], row[8])
            if plain is None:
                raise StateError(f"notice {notice_id}: its content was destroyed (retention)")
            return StoredDraft(
                notice_id=row[0],
                kind=row[1],
                state=row[2],
                drafter=row[3],
                plan=_plan_of(row[4]),
                approvals_required=row[5],
                related_notice_id=row[6],
                approvers=_approvers(conn, notice_id),
                payload=plain,
            )

        return await self._db.read(job)

    # --- dispatch -------------------------------------------------------------------------------

    def _dispatch_in(
        self,
        conn: sqlite3.Connection,
        *,
        notice_id: str,
        actor: str,
        now_ms: int,
        retention_ms: int,
        outbox: Sequence[Any],
        recipients: Sequence[Recipient],
    ) -> None:
        from gateway.store.store import _insert_outbox  # the outbox is store.py's

        state, drafter, _ = _notice_head(conn, notice_id)
        if state in ("draft", "awaiting_approval"):
            raise NotAllowed(
                f"notice {notice_id} is {state.replace('_', ' ')}: it needs its approvals"
                " before it can be sent (`gateway approve`)"
            )
        new_state = lc.notice_next(state, "dispatch", notice_id)
        conn.execute(
            "UPDATE notices SET state = ?, dispatched_at_ms = ?, retention_until_ms = ?"
            " WHERE notice_id = ?",
            (new_state, now_ms, now_ms + retention_ms, notice_id),
        )
        _insert_outbox(conn, list(outbox))
        conn.executemany(
            "INSERT INTO recipients (notice_id, peer, roles, state, ack_deadline_ms)"
            " VALUES (?, ?, ?, 'queued', ?)",
            [(notice_id, r.peer, r.roles, r.ack_deadline_ms) for r in recipients],
        )
        for r in outbox:
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=actor or drafter,
                action="notice_dispatched",
                notice_id=notice_id,
                message_id=r.message_id,
                peer=r.peer,
                outcome=r.roles.replace(",", "+"),
                digest=sha256(r.header),
            )

    async def dispatch_notice(
        self,
        *,
        notice_id: str,
        actor: str,
        now_ms: int,
        retention_ms: int,
        outbox: Sequence[Any],
        recipients: Sequence[Recipient],
        acknowledges: tuple[str, str] | None = None,
    ) -> None:
        """approved -> dispatched, with its outbox rows and recipients, in one transaction.

        `acknowledges` (sender, notice id) names a received notice this one acknowledges: its
        state moves to acknowledged in the same transaction.
        """

        def job(conn: sqlite3.Connection) -> None:
            self._dispatch_in(
                conn,
                notice_id=notice_id,
                actor=actor,
                now_ms=now_ms,
                retention_ms=retention_ms,
                outbox=outbox,
                recipients=recipients,
            )
            if acknowledges is not None:
                sender, related = acknowledges
                rows = _inbox_rows(conn, sender, related)
                if not rows:
                    raise NotFound(f"no notice {related!r} from {sender} in the inbox")
                for inbox_id, state in rows:
                    new_state = lc.inbox_next(state, "acknowledge", related)
                    conn.execute("UPDATE inbox SET state = ? WHERE id = ?", (new_state, inbox_id))
                self.audit.append(
                    conn,
                    time_ms=now_ms,
                    actor=actor,
                    action="notice_acknowledged",
                    notice_id=related,
                    peer=sender,
                    outcome="sent",
                    reason=f"acknowledgement {notice_id}",
                )

        await self._db.write(job)

    # --- effects of deliveries and of peers' follow-ups ---------------------------------------

    def _recipient_event(
        self,
        conn: sqlite3.Connection,
        notice_id: str,
        peer: str,
        event: lc.RecipientEvent,
    ) -> str | None:
        """Apply a peer-caused event if the table allows it; returns the new state or None."""
        row = conn.execute(
            "SELECT state FROM recipients WHERE notice_id = ? AND peer = ?", (notice_id, peer)
        ).fetchone()
        if row is None or not lc.allows(lc.RECIPIENT_TRANSITIONS, row[0], event):
            return None
        new_state = lc.recipient_next(row[0], event, notice_id)
        conn.execute(
            "UPDATE recipients SET state = ? WHERE notice_id = ? AND peer = ?",
            (new_state, notice_id, peer),
        )
        self._maybe_close(conn, notice_id)
        return new_state

    def _maybe_close(self, conn: sqlite3.Connection, notice_id: str) -> None:
        row = conn.execute(
            "SELECT state, ack_within_ms FROM notices WHERE notice_id = ?", (notice_id,)
        ).fetchone()
        if row is None or row[0] != "dispatched":
            return
        states = [
            s
            for (s,) in conn.execute(
                "SELECT state FROM recipients WHERE notice_id = ?", (notice_id,)
            )
        ]
        if lc.is_finished(states, ack_expected=row[1] is not None):
            conn.execute(
                "UPDATE notices SET state = ? WHERE notice_id = ?",
                (lc.notice_next(row[0], "close", notice_id), notice_id),
            )

    def _record_acknowledgement(
        self,
        conn: sqlite3.Connection,
        *,
        sender: str,
        related: str,
        ack_notice_id: str,
        now_ms: int,
    ) -> None:
        new_state = self._recipient_event(conn, related, sender, "acknowledge")
        if new_state is None:
            return  # not a recipient of ours, or acknowledged already: the inbox keeps it
        conn.execute(
            "UPDATE recipients SET acknowledged_at_ms = ?, ack_notice_id = ?"
            " WHERE notice_id = ? AND peer = ?",
            (now_ms, ack_notice_id, related, sender),
        )
        self.audit.append(
            conn,
            time_ms=now_ms,
            actor=sender,
            action="notice_acknowledged",
            notice_id=related,
            peer=sender,
            outcome="received",
            reason=f"acknowledgement {ack_notice_id}",
        )

    def _record_amendment(
        self,
        conn: sqlite3.Connection,
        *,
        sender: str,
        related: str,
        kind: str,
        amend: Callable[[bytes], bytes] | None,
        amendment_id: str,
        now_ms: int,
    ) -> None:
        """A correction replaces fields of, or a withdrawal hides, a notice from `sender`."""
        for inbox_id, state in _inbox_rows(conn, sender, related):
            if kind == "withdrawal":
                if not lc.allows(lc.INBOX_TRANSITIONS, state, "withdraw"):
                    continue  # withdrawn already (a second withdrawal changes nothing)
                new_state = lc.inbox_next(state, "withdraw", related)
                conn.execute("UPDATE inbox SET state = ? WHERE id = ?", (new_state, inbox_id))
                action = "notice_withdrawn"
            else:
                if not lc.allows(lc.INBOX_TRANSITIONS, state, "correct") or amend is None:
                    continue  # a withdrawn notice stays hidden
                self._amend_payload(conn, inbox_id, amend)
                conn.execute(
                    "UPDATE inbox SET corrected_at_ms = ? WHERE id = ?", (now_ms, inbox_id)
                )
                action = "notice_corrected"
            self.audit.append(
                conn,
                time_ms=now_ms,
                actor=sender,
                action=action,
                notice_id=related,
                peer=sender,
                reason=f"{kind} {amendment_id}",
            )

    def _amend_payload(
        self, conn: sqlite3.Connection, inbox_id: int, amend: Callable[[bytes], bytes]
    ) -> None:
        dk_id, wrapped, payload = conn.execute(
            "SELECT i.data_key_id, d.wrapped, i.payload FROM inbox i"
            " JOIN data_keys d ON d.id = i.data_key_id WHERE i.id = ?",
            (inbox_id,),
        ).fetchone()
        if wrapped is None or payload is None:
            return  # shredded: nothing left to correct
        plain = self._decrypt(dk_id, wrapped, payload)
        assert plain is not None
        data_key = at_rest.unwrap_key(self._storage_key, wrapped, str(dk_id).encode())
        sealed = at_rest.seal_payload(data_key, amend(plain), str(dk_id).encode())
        conn.execute("UPDATE inbox SET payload = ? WHERE id = ?", (sealed, inbox_id))

    def is_recipient(self, notice_id: str, peer: str) -> bool:
        """True if we sent `notice_id` to `peer`. One indexed read, on the event loop."""
        row = self._version_conn.execute(
            "SELECT 1 FROM recipients WHERE notice_id = ? AND peer = ?", (notice_id, peer)
        ).fetchone()
        return row is not None

    async def inbox_senders(self, notice_id: str) -> list[str]:
        """The nodes we received a notice `notice_id` from (one, unless ids collide)."""

        def job(conn: sqlite3.Connection) -> list[str]:
            return [
                str(s)
                for (s,) in conn.execute(
                    "SELECT DISTINCT sender FROM inbox WHERE notice_id = ?", (notice_id,)
                )
            ]

        return await self._db.read(job)

    async def recipients_of(self, notice_id: str) -> dict[str, str]:
        """peer -> roles, for every recipient of our notice `notice_id`."""

        def job(conn: sqlite3.Connection) -> dict[str, str]:
            return dict(
                conn.execute(
                    "SELECT peer, roles FROM recipients WHERE notice_id = ?", (notice_id,)
                ).fetchall()
            )

        return await self._db.read(job)

    async def notice_list(self, limit: int = 50) -> list[tuple[str, str, str, int]]:
        """(notice id, kind, state, created at) of our latest notices, newest first."""

        def job(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
            return [
                (str(n), str(k), str(s), int(t))
                for n, k, s, t in conn.execute(
                    "SELECT notice_id, kind, state, created_at_ms FROM notices"
                    " ORDER BY created_at_ms DESC, notice_id LIMIT ?",
                    (limit,),
                )
            ]

        return await self._db.read(job)

    # --- deadlines ------------------------------------------------------------------------------

    async def run_deadlines(self, now_ms: int) -> DeadlineRun:
        """Mark overdue recipients and raise an escalation for each deadline that passed."""

        def job(conn: sqlite3.Connection) -> DeadlineRun:
            raised: list[Escalation] = []
            for notice_id, peer, due, escalate_to in conn.execute(
                "SELECT r.notice_id, r.peer, r.ack_deadline_ms, n.escalate_to FROM recipients r"
                " JOIN notices n ON n.notice_id = r.notice_id"
                " WHERE r.state IN ('queued', 'delivered') AND r.ack_deadline_ms <= ?",
                (now_ms,),
            ).fetchall():
                self._recipient_event(conn, notice_id, peer, "deadline_passed")
                raised.append(
                    self._escalate(conn, notice_id, peer, "acknowledge", due, escalate_to, now_ms)
                )
            for notice_id, due, escalate_to in conn.execute(
                "SELECT notice_id, dispatch_deadline_ms, escalate_to FROM notices"
                " WHERE state IN ('draft', 'awaiting_approval', 'approved')"
                " AND dispatch_deadline_ms <= ? AND NOT EXISTS (SELECT 1 FROM escalations e"
                " WHERE e.notice_id = notices.notice_id AND e.deadline = 'dispatch')",
                (now_ms,),
            ).fetchall():
                raised.append(
                    self._escalate(conn, notice_id, "", "dispatch", due, escalate_to, now_ms)
                )
            return DeadlineRun(raised=tuple(raised), next_due_ms=_next_deadline(conn))

        return await self._db.write(job)

    def _escalate(
        self,
        conn: sqlite3.Connection,
        notice_id: str,
        peer: str,
        deadline: str,
        due_ms: int,
        escalate_to: str,
        now_ms: int,
    ) -> Escalation:
        cur = conn.execute(
            "INSERT INTO escalations (notice_id, peer, deadline, due_at_ms, raised_at_ms,"
            " escalate_to) VALUES (?, ?, ?, ?, ?, ?)",
            (notice_id, peer, deadline, due_ms, now_ms, escalate_to),
        )
        self.audit.append(
            conn,
            time_ms=now_ms,
            actor="system",
            action="escalation",
            notice_id=notice_id,
            peer=peer,
            outcome=f"{deadline}_overdue",
            reason=f"escalated to {escalate_to or 'nobody'}",
        )
        assert cur.lastrowid is not None
        return Escalation(
            id=cur.lastrowid,
            notice_id=notice_id,
            peer=peer,
            deadline=deadline,
            due_at_ms=due_ms,
            raised_at_ms=now_ms,
            escalate_to=escalate_to,
        )

    async def escalations(self, limit: int = 100) -> list[Escalation]:
        def job(conn: sqlite3.Connection) -> list[Escalation]:
            return [
                Escalation(
                    id=r[0],
                    notice_id=r[1],
                    peer=r[2],
                    deadline=r[3],
                    due_at_ms=r[4],
                    raised_at_ms=r[5],
                    escalate_to=r[6],
                )
                for r in conn.execute(
                    "SELECT id, notice_id, peer, deadline, due_at_ms, raised_at_ms, escalate_to"
                    " FROM escalations ORDER BY id DESC LIMIT ?",
                    (limit,),
                )
            ]

        return await self._db.read(job)

    # --- retention ------------------------------------------------------------------------------

    async def purge(self, now_ms: int, *, dry_run: bool, actor: str = "system") -> list[Purged]:
        """Destroy the data key of every notice whose retention ended (crypto-shredding).

        Metadata, receipts and audit leaves stay; the payload can never be read again. With
        `dry_run`, says what would go and changes nothing.
        """

        def job(conn: sqlite3.Connection) -> list[Purged]:
            due = [
                ("sent", n, "", until, dk)
                for n, until, dk in conn.execute(
                    "SELECT n.notice_id, n.retention_until_ms, n.data_key_id FROM notices n"
                    " JOIN data_keys d ON d.id = n.data_key_id"
                    " WHERE n.retention_until_ms <= ? AND d.wrapped IS NOT NULL"
                    " ORDER BY n.retention_until_ms",
                    (now_ms,),
                )
            ] + [
                ("received", n, sender, until, dk)
                for n, sender, until, dk in conn.execute(
                    "SELECT i.notice_id, i.sender, i.retention_until_ms, i.data_key_id FROM inbox i"
                    " JOIN data_keys d ON d.id = i.data_key_id"
                    " WHERE i.retention_until_ms <= ? AND d.wrapped IS NOT NULL"
                    " ORDER BY i.retention_until_ms",
                    (now_ms,),
                )
            ]
            purged = [
                Purged(side=side, notice_id=n, peer=peer, retention_until_ms=until)
                for side, n, peer, until, _ in due
            ]
            if dry_run:
                return purged
            for side, notice_id, peer, _, dk_id in due:
                conn.execute(
                    "UPDATE data_keys SET wrapped = NULL, destroyed_at_ms = ? WHERE id = ?",
                    (now_ms, dk_id),
                )
                if side == "sent":
                    conn.execute(
                        "UPDATE notices SET payload = NULL WHERE notice_id = ?", (notice_id,)
                    )
                    # Envelopes no longer in flight: recipients' copies, sealed to their keys.
                    conn.execute(
                        "UPDATE outbox SET envelope = x''"
                        " WHERE notice_id = ? AND state != 'queued'",
                        (notice_id,),
                    )
                else:
                    conn.execute("UPDATE inbox SET payload = NULL WHERE data_key_id = ?", (dk_id,))
                self.audit.append(
                    conn,
                    time_ms=now_ms,
                    actor=actor,
                    action="retention_purge",
                    notice_id=notice_id,
                    peer=peer,
                    outcome=side,
                )
            return purged

        if dry_run:
            return await self._db.read(job)
        return await self._db.write(job)

    async def next_retention_ms(self) -> int | None:
        def job(conn: sqlite3.Connection) -> int | None:
            values = [
                conn.execute(
                    f"SELECT min(t.retention_until_ms) FROM {table} t"  # noqa: S608
                    " JOIN data_keys d ON d.id = t.data_key_id WHERE d.wrapped IS NOT NULL"
                ).fetchone()[0]
                for table in ("notices", "inbox")
            ]
            present = [int(v) for v in values if v is not None]
            return min(present) if present else None

        return await self._db.read(job)


def _notice_head(conn: sqlite3.Connection, notice_id: str) -> tuple[str, str, int]:
    row = conn.execute(
        "SELECT state, drafter, approvals_required FROM notices WHERE notice_id = ?",
        (notice_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no notice {notice_id!r} drafted on this node")
    return str(row[0]), str(row[1]), int(row[2])


def _approvers(conn: sqlite3.Connection, notice_id: str) -> tuple[str, ...]:
    return tuple(
        a
        for (a,) in conn.execute(
            "SELECT approver FROM approvals WHERE notice_id = ? ORDER BY approved_at_ms, approver",
            (notice_id,),
        )
    )


def _inbox_rows(conn: sqlite3.Connection, sender: str, notice_id: str) -> list[tuple[int, str]]:
    return [
        (int(i), str(s))
        for i, s in conn.execute(
            "SELECT id, state FROM inbox WHERE sender = ? AND notice_id = ?", (sender, notice_id)
        )
    ]


def _plan_of(text: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not text:
        return ()
    return tuple((str(node), tuple(roles)) for node, roles in json.loads(text))


def _next_deadline(conn: sqlite3.Connection) -> int | None:
    (ack,) = conn.execute(
        "SELECT min(ack_deadline_ms) FROM recipients WHERE state IN ('queued', 'delivered')"
    ).fetchone()
    (dispatch,) = conn.execute(
        "SELECT min(dispatch_deadline_ms) FROM notices"
        " WHERE state IN ('draft', 'awaiting_approval', 'approved') AND NOT EXISTS"
        " (SELECT 1 FROM escalations e WHERE e.notice_id = notices.notice_id"
        " AND e.deadline = 'dispatch')"
    ).fetchone()
    present = [int(v) for v in (ack, dispatch) if v is not None]
    return min(present) if present else None
