"""Crashes and outages: the outbox and the inbox survive them (DESIGN.md section 6).

France sends modus-operandi notices (para10: to every party) to Brazil, the only other node.
Tests stop, kill (SIGKILL) and restart the nodes; each starts by bringing both back up, so that
one failing test does not take the others down with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.localnet import wait_for
from tests.e2e.federation import (
    NOTICES,
    Federation,
    MakeFederation,
    inbox_rows,
    send,
    status,
    wait_delivered,
)

MO_NOTICE = NOTICES / "modus-operandi.toml"


@pytest.fixture(scope="module")
def module_fed(make_federation: MakeFederation) -> Federation:
    return make_federation("fr-ncp", "br-ncp")


@pytest.fixture
def fed(module_fed: Federation) -> Federation:
    module_fed.ensure_running()
    return module_fed


def test_notice_sent_while_the_receiver_is_down_is_delivered_once_it_starts(
    fed: Federation,
) -> None:
    fr, br = fed["fr-ncp"], fed["br-ncp"]
    br.stop()
    notice_id = send(fr, MO_NOTICE)["notice_id"]

    def failed_attempt() -> dict[str, Any] | None:
        (recipient,) = status(fr, notice_id)["recipients"]
        return recipient if recipient["attempts"] >= 1 else None

    # The sender tried, could not reach Brazil, and keeps the envelope queued for a retry.
    recipient = wait_for(failed_attempt, what="a failed delivery attempt")
    assert recipient["state"] == "queued"
    assert "cannot reach peer" in recipient["last_error"]

    br.start()

    (delivered,) = wait_delivered(fr, notice_id)["recipients"]
    assert delivered["attempts"] >= 2
    (row,) = inbox_rows(br, notice_id)
    assert row["sender"] == "fr-ncp"


def test_sender_killed_right_after_send_delivers_after_restart_exactly_once(
    fed: Federation,
) -> None:
    """The serve process may or may not have sent the envelope before it died; either way
    the restarted sender ends up with a receipt and Brazil with one copy."""
    fr, br = fed["fr-ncp"], fed["br-ncp"]
    notice_id = send(fr, MO_NOTICE)["notice_id"]
    fr.kill()  # the `serve` process that delivers from the outbox the CLI just wrote

    fr.start()

    wait_delivered(fr, notice_id)
    assert len(inbox_rows(br, notice_id)) == 1


def test_sender_that_lost_a_receipt_in_a_crash_gets_the_original_one_after_restart(
    fed: Federation, tmp_path: Path
) -> None:
    """Deterministic version of the race above: Brazil already holds the envelope (as if it
    had answered just before France crashed), France's outbox still says queued."""
    fr, br = fed["fr-ncp"], fed["br-ncp"]
    fr.kill()
    notice_id = send(fr, MO_NOTICE)["notice_id"]  # the CLI queues it; nobody delivers it
    (queued,) = status(fr, notice_id)["recipients"]
    assert (queued["state"], queued["attempts"]) == ("queued", 0)
    envelope = tmp_path / "envelope.gwenv"
    fr.gateway("export", queued["message_id"], "-o", str(envelope))
    br.gateway("import", str(envelope))
    (row,) = inbox_rows(br, notice_id)

    fr.start()  # resumes the outbox: delivers again, and Brazil answers as for a duplicate

    (delivered,) = wait_delivered(fr, notice_id)["recipients"]
    assert delivered["delivered_at"] == row["received_at"]  # the original receipt's time
    assert inbox_rows(br, notice_id) == [row]


def test_receiver_killed_after_acknowledging_keeps_what_it_acknowledged(
    fed: Federation,
) -> None:
    fr, br = fed["fr-ncp"], fed["br-ncp"]
    notice_id = send(fr, MO_NOTICE)["notice_id"]
    (recipient,) = wait_delivered(fr, notice_id)["recipients"]  # Brazil's receipt is in
    br.kill()

    br.start()

    (row,) = inbox_rows(br, notice_id)
    assert row["message_id"] == recipient["message_id"]
    shown = br.json("show", notice_id)  # and the stored content still decrypts
    assert shown["notice"]["modus_operandi"]["recruitment_methods"] == [
        "online_job_advert",
        "social_media",
        "messaging_app",
    ]
