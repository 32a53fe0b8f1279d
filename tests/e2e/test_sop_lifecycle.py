"""The notice lifecycle between real nodes on 127.0.0.1, with a clock the test moves.

France (destination) sends Brazil (origin) and Honduras (transit) notices under the SOPs in
sops/. The nodes run in this process (gateway.node.create_app, the same composition root as
`gateway serve`) on loopback ports, exchanging envelopes over real HTTP, so that they can share
one injectable clock: the test moves it 49 hours on to pass an acknowledgement deadline, and
five years on to end a retention period, without sleeping. Node set-up (`gateway init`, cards,
`peer add`) goes through the CLI, as an operator would.

Covers issue 3 points 5-8: acknowledgements and escalations, receiver enforcement of the
`sender` role, corrections and withdrawals (only to the original's recipients), retention.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from aiohttp import web

from gateway.core import envelope
from gateway.core import notice as notices
from gateway.errors import ConfigError, NotAllowed, StateError
from gateway.net.peer_api import SERVICE
from gateway.node import create_app
from gateway.service import NodeService
from tests.e2e.federation import NOTICES, Federation, MakeFederation

T = TypeVar("T")
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
VICTIM = tomllib.loads((NOTICES / "victim-identification.toml").read_text(encoding="utf-8"))
MO = tomllib.loads((NOTICES / "modus-operandi.toml").read_text(encoding="utf-8"))
ROUTING = {
    "reference": "FR-OCRTEH-2025-00142",
    "origin_country": "BR",
    "transit_countries": ["HN"],
    "destination_country": "FR",
}


class Clock:
    """Real time plus an offset the test moves forward (shared by every node)."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms

    def advance(self, ms: int) -> None:
        self.offset_ms += ms


CLOCK = Clock()


@pytest.fixture(scope="module")
def fed(make_federation: MakeFederation) -> Federation:
    """fr, br, hn trust each other; gt trusts fr, but fr does not trust gt yet."""
    fed = make_federation("fr-ncp", "br-ncp", "hn-ncp", "gt-ncp", trust_all=False, start=False)
    for node_id in ("fr-ncp", "br-ncp", "hn-ncp"):
        fed.trust(node_id, [n for n in ("fr-ncp", "br-ncp", "hn-ncp") if n != node_id])
    fed.trust("gt-ncp", ["fr-ncp"])
    return fed


@asynccontextmanager
async def running(fed: Federation, *node_ids: str) -> AsyncIterator[dict[str, NodeService]]:
    """Run the nodes in this process on their loopback ports; yields their services."""
    runners: list[web.AppRunner] = []
    services: dict[str, NodeService] = {}
    try:
        for node_id in node_ids:
            node = fed[node_id]
            app = create_app(node.data_dir, clock=CLOCK)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", node.port).start()
            services[node_id] = app[SERVICE]
        yield services
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + 30
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def states(service: NodeService, notice_id: str) -> dict[str, str]:
    _, recipients = await service.status(notice_id)
    return {r.peer: r.state for r in recipients}


async def sent_and_delivered(fr: NodeService, document: dict[str, Any]) -> str:
    """Draft as ana, approve as bea if needed, send, and wait for every receipt."""
    drafted = await fr.draft(document, source="test", drafter="ana")
    if drafted.state == "awaiting_approval":
        await fr.approve(drafted.notice_id, approver="bea")
    notice_id = (await fr.send_draft(drafted.notice_id, actor="ana")).notice_id

    async def delivered() -> bool:
        _, recipients = await fr.status(notice_id)
        return bool(recipients) and all(r.delivery == "delivered" for r in recipients)

    await eventually(delivered, f"{notice_id} delivered")
    return notice_id


def audit_actions(fed: Federation, node_id: str, notice_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(fed[node_id].data_dir / "gateway.db") as conn:
        return [
            (str(a), str(o))
            for a, o in conn.execute(
                "SELECT action, outcome FROM audit_leaves WHERE notice_id = ? ORDER BY seq",
                (notice_id,),
            )
        ]


# --- approvals, acknowledgement and escalation (point 4 and 5) ------------------------------


async def test_acknowledgement_comes_back_and_a_missing_one_escalates(fed: Federation) -> None:
    async with running(fed, "fr-ncp", "br-ncp", "hn-ncp") as nodes:
        fr, br = nodes["fr-ncp"], nodes["br-ncp"]
        drafted = await fr.draft(VICTIM, source="victim.toml", drafter="ana")
        assert drafted.state == "awaiting_approval"
        assert [(r.node_id, r.roles) for r in drafted.plan.recipients] == [
            ("br-ncp", ("origin",)),
            ("hn-ncp", ("transit",)),
        ]
        with pytest.raises(NotAllowed, match="awaiting approval"):
            await fr.send_draft(drafted.notice_id, actor="ana")
        with pytest.raises(NotAllowed, match="ana drafted it"):
            await fr.approve(drafted.notice_id, approver="ana")
        with pytest.raises(NotAllowed, match="needs 1 approval"):
            await fr.send(VICTIM, source="victim.toml", drafter="ana")
        await fr.approve(drafted.notice_id, approver="bea")
        with pytest.raises(StateError):
            await fr.approve(drafted.notice_id, approver="carl")  # approved already
        notice_id = (await fr.send_draft(drafted.notice_id, actor="ana")).notice_id
        with pytest.raises(StateError, match="sent already"):
            await fr.send_draft(notice_id, actor="ana")

        async def both_delivered() -> bool:
            return await states(fr, notice_id) == {"br-ncp": "delivered", "hn-ncp": "delivered"}

        await eventually(both_delivered, "both receipts")

        ack = await br.acknowledge(notice_id, actor="carla", contact_unit="PF/DETRAP")
        assert ack.recipients == (("fr-ncp", ("sender",)),)  # to the sender, and nobody else

        async def acknowledged() -> bool:
            return (await states(fr, notice_id)).get("br-ncp") == "acknowledged"

        await eventually(acknowledged, "Brazil's acknowledgement at France")
        (entry,) = [e for e in await br.inbox() if e.notice_id == notice_id]
        assert entry.state == "acknowledged"
        with pytest.raises(StateError, match="acknowledged"):
            await br.acknowledge(notice_id, actor="carla")
        assert not [e for e in await nodes["hn-ncp"].inbox() if e.notice_id == ack.notice_id]
        assert await fr.escalations() == [] or all(
            e.deadline == "dispatch" for e in await fr.escalations()
        )

        # 49 hours on: Honduras never acknowledged (the SOP gives 48 hours).
        CLOCK.advance(49 * HOUR_MS)
        fr.on_deadlines()  # the deadline timer wakes, as it does when a deadline is added

        async def escalated() -> list[Any]:
            return [e for e in await fr.escalations() if e.deadline == "acknowledge"]

        (esc,) = await eventually(escalated, "an escalation")
        assert (esc.notice_id, esc.peer, esc.escalate_to) == (notice_id, "hn-ncp", "approver")
        assert await states(fr, notice_id) == {"br-ncp": "acknowledged", "hn-ncp": "overdue"}
        assert (await fr.run_deadlines()).raised == ()  # raised once only
        actions = audit_actions(fed, "fr-ncp", notice_id)
        assert ("notice_drafted", "awaiting_approval") in actions
        assert ("notice_approved", "approved") in actions
        assert ("notice_acknowledged", "received") in actions
        assert ("escalation", "acknowledge_overdue") in actions
        assert ("notice_acknowledged", "sent") in audit_actions(fed, "br-ncp", notice_id)

        # Late, but acknowledged: the escalation stays on record.
        await nodes["hn-ncp"].acknowledge(notice_id, actor="hugo")

        async def late_ack() -> bool:
            row, _ = await fr.status(notice_id)
            return row.state == "closed"

        await eventually(late_ack, "the notice to close")
        assert await states(fr, notice_id) == {"br-ncp": "acknowledged", "hn-ncp": "acknowledged"}


async def test_an_acknowledgement_of_a_notice_not_sent_to_the_acker_is_refused(
    fed: Federation,
) -> None:
    """Receiver enforcement of the `sender` role: France holds it only towards the nodes it
    sent the acknowledged notice to. Honduras signs a well-formed acknowledgement of a notice
    France never sent it; France refuses it with a signed rejection and stores nothing."""
    async with running(fed, "fr-ncp", "hn-ncp") as nodes:
        fr, hn = nodes["fr-ncp"], nodes["hn-ncp"]
        doc = {
            "kind": "acknowledgement",
            "sop": "para8-victim-notification",
            "case": {"reference": "X"},
            "response": {"related_notice_id": "N-00000000000000000000", "outcome": "received"},
        }
        with pytest.raises(ConfigError, match="sender of the notice it answers"):
            await hn.draft(doc, source="ack.toml", drafter="hugo")  # the planner says no

        forged = notices.parse_notice_document(doc, source="ack.toml")
        forged.notice_id, forged.sender_node_id = "N-FORGED0000000000000", "hn-ncp"
        forged.created_at_ms, forged.sop_version = CLOCK(), 1
        sealed = envelope.seal(
            payload=forged.SerializeToString(),
            notice_id=forged.notice_id,
            kind="acknowledgement",
            sop_id="para8-victim-notification",
            sop_version=1,
            tlp="amber",
            handling_code="h2",
            created_at_ms=CLOCK(),
            expires_at_ms=CLOCK() + HOUR_MS,
            sender_node_id="hn-ncp",
            signing=hn._keys.node.signing,
            recipients=[(await hn.directory()).recipient_key("fr-ncp")],
        )
        status, _ = await fr.receive(sealed.data)
        assert status == 422
        assert not [e for e in await fr.inbox() if e.notice_id == forged.notice_id]
        with sqlite3.connect(fed["fr-ncp"].data_dir / "gateway.db") as conn:
            (outcome,) = conn.execute(
                "SELECT outcome FROM audit_leaves WHERE action = 'envelope_refused'"
                " ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        assert outcome == "fields_not_allowed"


# --- corrections and withdrawals (point 7) ----------------------------------------------------


async def test_a_correction_and_a_withdrawal_reach_the_recipients_of_the_original(
    fed: Federation,
) -> None:
    async with running(fed, "fr-ncp", "br-ncp", "hn-ncp") as nodes:
        fr, br, hn = nodes["fr-ncp"], nodes["br-ncp"], nodes["hn-ncp"]
        notice_id = await sent_and_delivered(fr, VICTIM)
        correction = {
            "kind": "correction",
            "sop": "para8-victim-notification",
            "case": ROUTING,
            "victim": {"family_name": "Exemplo Corrigido", "age_band": "25_34"},
            "facts": {"purposes": ["forced_labour"]},
            "amendment": {"related_notice_id": notice_id, "reason": "error"},
        }
        fixed_id = await sent_and_delivered(fr, correction)
        _, recipients = await fr.status(fixed_id)
        assert {r.peer for r in recipients} == {"br-ncp", "hn-ncp"}

        _, at_br = await br.show(notice_id, actor="carla")
        assert at_br is not None
        assert at_br["victim"]["family_name"] == "Exemplo Corrigido"
        assert at_br["victim"]["given_names"] == "Ana"  # not in the correction: unchanged
        assert at_br["facts"]["purposes"] == ["forced_labour"]
        entry, at_hn = await hn.show(notice_id, actor="hugo")
        assert at_hn is not None and "victim" not in at_hn  # transit: still no victim data
        assert at_hn["facts"]["purposes"] == ["forced_labour"]
        assert entry.corrected_at_ms is not None

        moved = {**correction, "case": {**ROUTING, "transit_countries": ["GT"]}}
        with pytest.raises(ConfigError, match="same as in notice"):
            await fr.draft(moved, source="moved.toml", drafter="ana")
        not_ours = {**correction, "amendment": {"related_notice_id": "N-1", "reason": "error"}}
        with pytest.raises(ConfigError, match="not a notice this node dispatched"):
            await fr.draft(not_ours, source="x.toml", drafter="ana")

        withdrawal = {
            "kind": "withdrawal",
            "sop": "para8-victim-notification",
            "case": ROUTING,
            "amendment": {"related_notice_id": notice_id, "reason": "legal_order"},
        }
        sent = await fr.send(withdrawal, source="withdraw.toml", drafter="ana")  # no approval
        assert {n for n, _ in sent.recipients} == {"br-ncp", "hn-ncp"}

        async def withdrawn_everywhere() -> bool:
            entries = [e for n in (br, hn) for e in await n.inbox() if e.notice_id == notice_id]
            return len(entries) == 2 and all(e.state == "withdrawn" for e in entries)

        await eventually(withdrawn_everywhere, "the withdrawal at both recipients")
        entry, hidden = await br.show(notice_id, actor="carla")
        assert hidden is None and entry.state == "withdrawn"
        assert ("notice_withdrawn", "ok") in audit_actions(fed, "br-ncp", notice_id)
        assert ("notice_corrected", "ok") in audit_actions(fed, "hn-ncp", notice_id)


async def test_an_amendment_skips_a_party_that_did_not_receive_the_original(
    fed: Federation,
) -> None:
    """para10 sends to every party; Guatemala joins France's directory after the original, so
    the correction, also to every party, must still not reach it."""
    async with running(fed, "fr-ncp", "br-ncp", "hn-ncp", "gt-ncp") as nodes:
        fr = nodes["fr-ncp"]
        original = await sent_and_delivered(fr, MO)
        await asyncio.to_thread(fed.trust, "fr-ncp", ["gt-ncp"])
        correction = {
            "kind": "correction",
            "sop": "para10-modus-operandi",
            "case": {k: v for k, v in MO["case"].items()},
            "facts": {"purposes": ["forced_labour"]},
            "amendment": {"related_notice_id": original, "reason": "new_information"},
        }
        fixed = await sent_and_delivered(fr, correction)
        _, recipients = await fr.status(fixed)
        assert {r.peer for r in recipients} == {"br-ncp", "hn-ncp"}
        assert not [e for e in await nodes["gt-ncp"].inbox() if e.notice_id == fixed]


# --- retention (point 8) -----------------------------------------------------------------------


async def test_retention_destroys_the_data_keys_on_both_sides(fed: Federation) -> None:
    async with running(fed, "fr-ncp", "br-ncp", "hn-ncp") as nodes:
        fr, br = nodes["fr-ncp"], nodes["br-ncp"]
        notice_id = await sent_and_delivered(fr, VICTIM)
        assert not [p for p in await fr.purge(dry_run=True) if p.notice_id == notice_id]

        CLOCK.advance(1827 * DAY_MS)  # para8 keeps notices 1826 days
        would = {(p.side, p.notice_id) for p in await fr.purge(dry_run=True)}
        assert ("sent", notice_id) in would
        _, still = await br.show(notice_id, actor="carla")
        assert still is not None  # a dry run changes nothing

        for node in (fr, br):
            node.on_deadlines()  # the node's timer runs the purge

        async def shredded() -> bool:
            row, _ = await fr.status(notice_id)
            entry, payload = await br.show(notice_id, actor="carla")
            return row.shredded and entry.shredded and payload is None

        await eventually(shredded, "both sides to destroy the data key")
        row, recipients = await fr.status(notice_id)  # metadata and receipts stay
        assert row.kind == "victim_identification" and row.shredded
        assert {r.delivery for r in recipients} == {"delivered"}
        assert ("retention_purge", "sent") in audit_actions(fed, "fr-ncp", notice_id)
        assert ("retention_purge", "received") in audit_actions(fed, "br-ncp", notice_id)
        assert await fr.purge(dry_run=True) == []  # nothing left to purge
