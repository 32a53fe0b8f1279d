"""The notice lifecycle use cases: draft, approve, send, acknowledge, deadlines and retention.

A mixin of `NodeService` (gateway/service.py), split out for size; like the rest of the
service it calls the pure core and the store and knows no HTTP.

- `draft` plans a notice under its SOP (every reason it cannot go is reported at once), stores
  it encrypted, and submits it: to `awaiting_approval` when its rule needs approvals, else
  straight to `approved`. `approve` applies the four-eyes rules of gateway/core/lifecycle.py.
- `send_draft` dispatches an approved notice: it plans again (the acknowledgement deadline
  counts from dispatch) and refuses if the recipients are no longer those the approvers saw.
  `send` (an officer's file in one step) is for rules that need no approval only.
- A correction or withdrawal goes only to the recipients of the notice it amends, with the
  same case countries (so that each recipient holds the same role and sees only its fields).
- `acknowledge` answers a received notice under its SOP's acknowledgement rule, which sends
  to the `sender` role: the node that sent the notice, and nobody else.
- `run_deadlines` marks recipients overdue and raises escalations; `purge` destroys the data
  keys of notices whose retention ended. `DeadlineTimer` runs both in `gateway serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from gateway._pb.gateway.v1 import notice_pb2
from gateway.config import Config
from gateway.core import envelope
from gateway.core import notice as notices
from gateway.core import sop as sops
from gateway.core.directory import Directory
from gateway.core.sop import Plan
from gateway.errors import ConfigError, NotAllowed, NotFound, StateError
from gateway.logs import get_logger
from gateway.store.keyfiles import KeyMaterial
from gateway.store.lifecycle import DeadlineRun, DraftRow, Escalation, Purged, Recipient
from gateway.store.store import InboxEntry, OutboxItem, OutboxRow, Store

__all__ = ["DeadlineTimer", "DraftResult", "LifecycleService", "SendResult"]

log = get_logger()

# Kinds that amend one of our own dispatched notices, and go only to its recipients.
AMENDMENT_KINDS = frozenset({"correction", "withdrawal"})
# The case fields that decide a recipient's role: an amendment must keep them unchanged.
_ROUTING_FIELDS = ("origin_country", "transit_countries", "destination_country")


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    notice_id: str
    recipients: tuple[tuple[str, tuple[str, ...]], ...]  # (node id, roles)
    message_ids: tuple[tuple[str, bytes], ...]  # (node id, message id of its envelope)


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftResult:
    notice_id: str
    state: str
    plan: Plan


class LifecycleService:
    config: Config
    node_id: str
    sops: sops.SopSet
    on_outbox: Callable[[list[OutboxItem]], None]
    # Wakes the deadline timer (DeadlineTimer sets it): a new deadline may be the earliest.
    on_deadlines: Callable[[], None]
    _keys: KeyMaterial
    _store: Store
    _clock: Callable[[], int]

    async def directory(self, *, max_age_ms: int = 0) -> Directory:
        raise NotImplementedError

    # --- planning -------------------------------------------------------------------------------

    async def plan_notice(self, notice: notice_pb2.Notice) -> Plan:
        """The dispatch plan of a parsed notice now, or PlanError with every reason."""
        now = self._clock()
        directory = await self.directory()
        entries = [
            # Ourselves too: a role held by our own country is then covered, not missing.
            sops.DirectoryEntry(node_id=self.node_id, country=self.config.country),
            *(
                sops.DirectoryEntry(node_id=p.node_id, country=p.country, revoked=p.revoked)
                for p in directory.peers
            ),
        ]
        kind = notices.kind_name(notice.kind)
        reply_to = None
        if kind in sops.REPLY_KINDS and notice.response.related_notice_id:
            reply_to = await self._reply_to(notice.response.related_notice_id)
        if kind in AMENDMENT_KINDS:
            original = await self._check_amendment(notice)
            entries = [e for e in entries if e.node_id in original or e.node_id == self.node_id]
        return sops.plan(_plan_input(notice, reply_to), self.sops, entries, self.node_id, _utc(now))

    async def preview(self, document: Mapping[str, object], *, source: str) -> Plan:
        """`gateway sop plan`: what a notice file would do, storing nothing."""
        return await self.plan_notice(notices.parse_notice_document(document, source=source))

    async def _reply_to(self, related: str) -> str | None:
        senders = await self._store.inbox_senders(related)
        return senders[0] if len(senders) == 1 else None

    async def _check_amendment(self, notice: notice_pb2.Notice) -> dict[str, str]:
        """The recipients of the notice an amendment refers to (it must be ours, with the
        same case countries); raises ConfigError saying what to do otherwise."""
        related = notice.amendment.related_notice_id
        if not related:
            return {}  # the plan reports the missing required field
        original = await self._store.recipients_of(related)
        if not original:
            raise ConfigError(
                f"amendment.related_notice_id: {related} is not a notice this node dispatched;"
                " only the sender of a notice can correct or withdraw it"
            )
        stored = notices.decode_notice((await self._store.stored_notice(related)).payload)
        for name in _ROUTING_FIELDS:
            if list(_as_list(getattr(notice.case, name))) != list(
                _as_list(getattr(stored.case, name))
            ):
                raise ConfigError(
                    f"case.{name} must be the same as in notice {related}: a correction or"
                    " withdrawal goes to the recipients of the original, in the same roles. To"
                    " change the countries, withdraw the notice and send a new one."
                )
        return original

    # --- drafting and approving -----------------------------------------------------------------

    async def draft(
        self, document: Mapping[str, object], *, source: str, drafter: str
    ) -> DraftResult:
        """Store an officer's notice as a draft and submit it for approval."""
        return await self._draft(
            notices.parse_notice_document(document, source=source), drafter=drafter
        )

    async def draft_notice(self, notice: notice_pb2.Notice, *, drafter: str) -> DraftResult:
        """Store a parsed notice as a draft (its ids and times are set here)."""
        return await self._draft(notice, drafter=drafter)

    async def _draft(self, notice: notice_pb2.Notice, *, drafter: str) -> DraftResult:
        plan = await self.plan_notice(notice)
        now = self._clock()
        notice.notice_id = _new_notice_id()
        notice.sender_node_id = self.node_id
        notice.created_at_ms = now
        notice.sop_id = plan.sop_id
        notice.sop_version = plan.sop_version
        notices.validate_notice(notice)
        rule = plan.rule
        row = DraftRow(
            notice_id=notice.notice_id,
            kind=plan.kind,
            sop_id=plan.sop_id,
            sop_version=plan.sop_version,
            created_at_ms=now,
            drafter=drafter,
            approvals_required=plan.approvals_required,
            plan=json.dumps([[r.node_id, list(r.roles)] for r in plan.recipients]),
            escalate_to=",".join(rule.escalate_to),
            related_notice_id=_related(notice) or None,
            dispatch_deadline_ms=_ms(plan.dispatch_deadline),
            ack_within_ms=None
            if rule.acknowledge_within is None
            else int(rule.acknowledge_within.total_seconds() * 1000),
            retention_ms=int(plan.retention.total_seconds() * 1000),
        )
        state = await self._store.create_draft(row, notice.SerializeToString())
        log.info("notice_drafted", notice_id=notice.notice_id, state=state)
        return DraftResult(notice_id=notice.notice_id, state=state, plan=plan)

    async def approve(self, notice_id: str, *, approver: str) -> tuple[str, tuple[str, ...], int]:
        """One more approval; returns (state, approvers, approvals required)."""
        result = await self._store.approve(notice_id, approver, self._clock())
        log.info("notice_approved", notice_id=notice_id, state=result.state)
        return result.state, result.approvers, result.approvals_required

    # --- sending --------------------------------------------------------------------------------

    async def send(
        self, document: Mapping[str, object], *, source: str, drafter: str
    ) -> SendResult:
        """Draft and send an officer's notice in one step: only if its rule needs no approval."""
        notice = notices.parse_notice_document(document, source=source)
        plan = await self.plan_notice(notice)
        if plan.approvals_required:
            raise NotAllowed(
                f"{source}: SOP {plan.sop_id} v{plan.sop_version} needs"
                f" {plan.approvals_required} approval(s) for {plan.kind} notices; run"
                f" `gateway draft {source}`, have another officer run `gateway approve ID`,"
                " then `gateway send ID`"
            )
        return await self.dispatch(notice, drafter=drafter)

    async def dispatch(
        self, notice: notice_pb2.Notice, *, drafter: str, approvers: tuple[str, ...] = ()
    ) -> SendResult:
        """Draft, approve (by `approvers`, audited each) and send a parsed notice.

        For callers that hold the approvals already (benchmarks, tests); the four-eyes rules
        apply all the same: NotAllowed if `approvers` are too few or include the drafter.
        """
        drafted = await self._draft(notice, drafter=drafter)
        for approver in approvers:
            await self.approve(drafted.notice_id, approver=approver)
        return await self.send_draft(drafted.notice_id, actor=drafter)

    async def send_draft(self, notice_id: str, *, actor: str) -> SendResult:
        """Dispatch an approved notice: seal one envelope per field view and queue them."""
        stored = await self._store.stored_notice(notice_id)
        if stored.state in ("draft", "awaiting_approval"):
            missing = stored.approvals_required - len(stored.approvers)
            raise NotAllowed(
                f"notice {notice_id} is awaiting approval: {missing} more approval(s) by an"
                f" officer other than {stored.drafter} (`gateway approve {notice_id}`)"
            )
        if stored.state != "approved":
            raise StateError(
                f"notice {notice_id}: cannot dispatch in state {stored.state}; it was sent"
                " already (see `gateway status`)"
            )
        notice = notices.decode_notice(stored.payload)
        plan = await self.plan_notice(notice)
        planned = tuple((r.node_id, tuple(r.roles)) for r in plan.recipients)
        if planned != stored.plan:
            raise StateError(
                f"notice {notice_id}: its recipients changed since it was approved (the"
                " directory changed); draft it again so that approvers see the new plan"
            )
        return await self._seal_and_queue(notice, plan, actor=actor)

    async def _seal_and_queue(
        self,
        notice: notice_pb2.Notice,
        plan: Plan,
        *,
        actor: str,
        acknowledges: tuple[str, str] | None = None,
    ) -> SendResult:
        now = self._clock()
        directory = await self.directory()
        ttl = self.config.envelope_ttl_ms
        outbox: list[OutboxRow] = []
        for view, group in _group_by_view(plan.recipients):
            sealed = envelope.seal(
                payload=notices.apply_view(notice, view).SerializeToString(),
                notice_id=notice.notice_id,
                kind=plan.kind,
                sop_id=plan.sop_id,
                sop_version=plan.sop_version,
                tlp=plan.tlp,
                handling_code=plan.handling_code,
                created_at_ms=now,
                expires_at_ms=now + ttl,
                sender_node_id=self.node_id,
                signing=self._keys.node.signing,
                recipients=[directory.recipient_key(r.node_id) for r in group],
            )
            outbox.extend(
                OutboxRow(
                    message_id=sealed.message_id,
                    peer=r.node_id,
                    notice_id=notice.notice_id,
                    roles=",".join(r.roles),
                    envelope=sealed.data,
                    header=sealed.header_bytes,
                    created_at_ms=now,
                    expires_at_ms=now + ttl,
                )
                for r in group
            )
        ack_deadline = _ms(plan.ack_deadline)
        await self._store.dispatch_notice(
            notice_id=notice.notice_id,
            actor=actor,
            now_ms=now,
            retention_ms=int(plan.retention.total_seconds() * 1000),
            outbox=outbox,
            recipients=[
                Recipient(peer=r.node_id, roles=",".join(r.roles), ack_deadline_ms=ack_deadline)
                for r in plan.recipients
            ],
            acknowledges=acknowledges,
        )
        log.info("notice_dispatched", notice_id=notice.notice_id, envelopes=len(outbox))
        self.on_outbox(
            [
                OutboxItem(
                    message_id=r.message_id,
                    peer=r.peer,
                    envelope=r.envelope,
                    header=r.header,
                    expires_at_ms=r.expires_at_ms,
                    attempts=0,
                )
                for r in outbox
            ]
        )
        self.on_deadlines()
        return SendResult(
            notice_id=notice.notice_id,
            recipients=tuple((r.node_id, tuple(r.roles)) for r in plan.recipients),
            message_ids=tuple((row.peer, row.message_id) for row in outbox),
        )

    # --- acknowledging --------------------------------------------------------------------------

    async def acknowledge(
        self, ref: str, *, actor: str, outcome: str = "received", contact_unit: str = ""
    ) -> SendResult:
        """Send a signed acknowledgement of a received notice back to its sender."""
        entry, payload = await self._received(ref, actor=actor)
        if entry.state != "received":
            raise StateError(
                f"received notice {entry.notice_id}: cannot acknowledge in state {entry.state}"
            )
        sop = self.sops.get(entry.sop_id, entry.sop_version)
        rule = sop.rule_for("acknowledgement")
        if rule is None:
            raise NotAllowed(
                f"SOP {sop.id} v{sop.version} has no acknowledgement rule: its {entry.kind}"
                " notices are not acknowledged"
            )
        original = notices.decode_notice(payload)
        response: dict[str, object] = {"related_notice_id": entry.notice_id, "outcome": outcome}
        if contact_unit:
            response["contact_unit"] = contact_unit
        document: dict[str, object] = {
            "kind": "acknowledgement",
            "sop": sop.id,
            "sop_version": sop.version,
            "response": response,
            "handling": {"tlp": rule.tlp, "handling_code": rule.handling_code},
        }
        if original.case.reference:
            document["case"] = {"reference": original.case.reference}
        ack = notices.parse_notice_document(document, source="acknowledgement")
        drafted = await self._draft(ack, drafter=actor)
        if drafted.state != "approved":
            raise NotAllowed(
                f"acknowledgement {drafted.notice_id} needs approval under SOP {sop.id}:"
                f" `gateway approve {drafted.notice_id}`, then `gateway send {drafted.notice_id}`"
            )
        stored = await self._store.stored_notice(drafted.notice_id)
        return await self._seal_and_queue(
            notices.decode_notice(stored.payload),
            drafted.plan,
            actor=actor,
            acknowledges=(entry.sender, entry.notice_id),
        )

    async def _received(self, ref: str, *, actor: str) -> tuple[InboxEntry, bytes]:
        entry, payload = await self._store.inbox_item(ref, actor=actor, now_ms=self._clock())
        if payload is None:
            raise NotFound(
                f"received notice {entry.notice_id} is {entry.state}: its content is no longer"
                " available"
            )
        return entry, payload

    # --- deadlines and retention ----------------------------------------------------------------

    async def run_deadlines(self) -> DeadlineRun:
        run = await self._store.run_deadlines(self._clock())
        for esc in run.raised:
            log.warning(
                "escalation",
                notice_id=esc.notice_id,
                peer=esc.peer,
                deadline=esc.deadline,
                escalate_to=esc.escalate_to,
            )
        return run

    async def notice_list(self, limit: int = 50) -> list[tuple[str, str, str, int]]:
        return await self._store.notice_list(limit)

    async def escalations(self, limit: int = 100) -> list[Escalation]:
        return await self._store.escalations(limit)

    async def purge(self, *, dry_run: bool, actor: str = "system") -> list[Purged]:
        purged = await self._store.purge(self._clock(), dry_run=dry_run, actor=actor)
        if not dry_run:
            for item in purged:
                log.info("retention_purge", notice_id=item.notice_id, side=item.side)
        return purged

    async def next_wakeup_ms(self, deadline_run: DeadlineRun) -> int | None:
        retention = await self._store.next_retention_ms()
        present = [v for v in (deadline_run.next_due_ms, retention) if v is not None]
        return min(present) if present else None


class DeadlineTimer:
    """Runs deadlines and retention when they fall due, sleeping in between.

    It sleeps until the next deadline the store knows of, and is woken early when this process
    adds one (`wake`). Deadlines added by another process (the CLI) are picked up within
    MAX_SLEEP_S: SOP deadlines are hours and days, so a minute late is on time, and the
    database is read once a minute at most when nothing is due.
    """

    MAX_SLEEP_S = 60.0

    def __init__(self, service: LifecycleService, clock: Callable[[], int]) -> None:
        self._service = service
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._service.on_deadlines = self.wake
        self._task = asyncio.create_task(self._run(), name="deadline-timer")

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            run = await self._service.run_deadlines()
            await self._service.purge(dry_run=False)
            next_ms = await self._service.next_wakeup_ms(run)
            delay = self.MAX_SLEEP_S
            if next_ms is not None:
                delay = min(delay, max(0.0, (next_ms - self._clock()) / 1000))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)


# --- helpers ------------------------------------------------------------------------------------


def _new_notice_id() -> str:
    return "N-" + random.SystemRandom().getrandbits(80).to_bytes(10, "big").hex().upper()


def _as_list(value: object) -> list[object]:
    if isinstance(value, str):
        return [value] if value else []
    return list(cast("list[object]", value))


def _related(notice: notice_pb2.Notice) -> str:
    return notice.response.related_notice_id or notice.amendment.related_notice_id


def _plan_input(notice: notice_pb2.Notice, reply_to: str | None = None) -> sops.PlanInput:
    routing = notices.routing(notice)
    identified = routing.identified_at_ms
    return sops.PlanInput(
        kind=cast(sops.Kind, routing.kind),
        sop_id=notice.sop_id or None,
        origin=routing.origin,
        transit=routing.transit,
        destination=routing.destination,
        identified_at=None
        if identified is None
        else datetime.fromtimestamp(identified / 1000, UTC),
        present_fields=notices.present_fields(notice),
        reply_to=reply_to,
    )


def _group_by_view(
    recipients: tuple[sops.Recipient, ...],
) -> list[tuple[frozenset[str], list[sops.Recipient]]]:
    """Recipients that see the same fields share one envelope (DESIGN.md section 5)."""
    groups: dict[frozenset[str], list[sops.Recipient]] = {}
    for recipient in recipients:
        groups.setdefault(recipient.view, []).append(recipient)
    return list(groups.items())


def _ms(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
