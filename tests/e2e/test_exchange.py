"""Three real nodes exchange notices under the SOPs in sops/, as in `make demo`.

France (destination) identified a victim from Brazil (origin) who crossed Honduras (transit).
Under para8-victim-notification the origin receives the victim's identity and the transit state
only the case, facts, route and handling; under para10-modus-operandi every party receives the
methods and nothing else.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.core.notice import notice_to_document, parse_notice_document
from tests.e2e.federation import (
    NOTICES,
    Federation,
    MakeFederation,
    inbox_rows,
    parse_cli_time,
    send,
    wait_delivered,
)

VICTIM_NOTICE = NOTICES / "victim-identification.toml"
MO_NOTICE = NOTICES / "modus-operandi.toml"
# Strings of the fixture's victim group that must never reach the transit state.
VICTIM_VALUES = ("Exemplo Teste", "XX0000001", "2003-07-21", "reflection_period")


def as_document(path: Path) -> dict[str, Any]:
    """The notice file as a receiver's `show --json` prints it (codes as names, UTC times)."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    return notice_to_document(parse_notice_document(document, source=path.name))


def received(node_document: dict[str, Any]) -> dict[str, Any]:
    """A received notice without the SOP version, which the sender adds when it drafts."""
    assert node_document["sop_version"] == 1
    return {k: v for k, v in node_document.items() if k != "sop_version"}


@pytest.fixture(scope="module")
def fed(make_federation: MakeFederation) -> Federation:
    return make_federation("fr-ncp", "br-ncp", "hn-ncp")


@pytest.fixture(scope="module")
def victim_notice(fed: Federation) -> tuple[dict[str, Any], dict[str, Any]]:
    """France sends the victim-identification fixture; (send --json, status once delivered)."""
    sent = send(fed["fr-ncp"], VICTIM_NOTICE)
    return sent, wait_delivered(fed["fr-ncp"], sent["notice_id"])


def message_id_for(status: dict[str, Any], node_id: str) -> str:
    (recipient,) = [r for r in status["recipients"] if r["node_id"] == node_id]
    message_id: str = recipient["message_id"]
    return message_id


def test_sop_routes_the_victim_notice_to_origin_and_transit(
    victim_notice: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    sent, _ = victim_notice
    assert sent["notice_id"].startswith("N-")
    assert sent["recipients"] == [
        {"node_id": "br-ncp", "roles": ["origin"]},
        {"node_id": "hn-ncp", "roles": ["transit"]},
    ]


def test_status_reaches_delivered_for_both_with_a_receipt_time(
    victim_notice: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    sent, status = victim_notice
    assert status["notice_id"] == sent["notice_id"]
    assert status["kind"] == "victim_identification"
    assert status["sop"] == "para8-victim-notification v1"
    created = parse_cli_time(status["created_at"])
    assert [r["node_id"] for r in status["recipients"]] == ["br-ncp", "hn-ncp"]
    for recipient in status["recipients"]:
        assert recipient["state"] == "delivered"
        assert recipient["last_error"] is None
        assert recipient["attempts"] >= 1
        # The receiver's signed receipt says when it stored the envelope.
        assert created <= parse_cli_time(recipient["delivered_at"])
        assert len(bytes.fromhex(recipient["message_id"])) == 16
    # Origin and transit see different fields, so each has its own envelope.
    assert message_id_for(status, "br-ncp") != message_id_for(status, "hn-ncp")


def test_origin_receives_the_whole_notice_with_the_victim_group(
    fed: Federation, victim_notice: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    sent, _ = victim_notice
    shown = fed["br-ncp"].json("show", sent["notice_id"])
    assert shown["sender"] == "fr-ncp"
    assert shown["roles"] == ["origin"]
    assert "victim" in shown["notice"]
    assert shown["notice"]["victim"]["family_name"] == "Exemplo Teste"
    assert received(shown["notice"]) == as_document(VICTIM_NOTICE)


def test_transit_receives_no_victim_group_at_all(
    fed: Federation, victim_notice: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    sent, _ = victim_notice
    out = fed["hn-ncp"].gateway("show", sent["notice_id"], "--json").stdout
    for value in VICTIM_VALUES:
        assert value.encode() not in out, f"transit node holds victim data {value!r}"
    shown = json.loads(out)
    assert shown["roles"] == ["transit"]
    assert "victim" not in shown["notice"]
    expected = as_document(VICTIM_NOTICE)
    del expected["victim"]
    # Everything else the transit role is granted arrives intact.
    assert received(shown["notice"]) == expected
    assert {"case", "facts", "modus_operandi", "handling"} <= shown["notice"].keys()


@pytest.mark.parametrize(("node_id", "role"), [("br-ncp", "origin"), ("hn-ncp", "transit")])
def test_inbox_lists_the_notice_once_at_each_receiver(
    fed: Federation,
    victim_notice: tuple[dict[str, Any], dict[str, Any]],
    node_id: str,
    role: str,
) -> None:
    sent, status = victim_notice
    (row,) = inbox_rows(fed[node_id], sent["notice_id"])
    assert row["sender"] == "fr-ncp"
    assert row["kind"] == "victim_identification"
    assert row["sop"] == "para8-victim-notification v1"
    assert row["roles"] == [role]
    assert row["message_id"] == message_id_for(status, node_id)
    assert row["shredded"] is False


def test_export_then_import_on_the_receiver_is_answered_as_a_duplicate(
    fed: Federation, victim_notice: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    sent, status = victim_notice
    br = fed["br-ncp"]
    (before,) = inbox_rows(br, sent["notice_id"])
    envelope_file = tmp_path / "to-br.gwenv"
    fed["fr-ncp"].gateway("export", message_id_for(status, "br-ncp"), "-o", str(envelope_file))
    assert envelope_file.stat().st_size > 0

    imported = br.gateway("import", str(envelope_file), check=False)

    assert imported.returncode == 0, imported.stderr.decode()
    assert inbox_rows(br, sent["notice_id"]) == [before]  # the same row, stored once


def test_import_of_an_envelope_for_another_node_is_refused(
    fed: Federation, victim_notice: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    """Offline transfer applies the same checks: Brazil's envelope does not open in Honduras."""
    sent, status = victim_notice
    hn = fed["hn-ncp"]
    envelope_file = tmp_path / "to-br.gwenv"
    fed["fr-ncp"].gateway("export", message_id_for(status, "br-ncp"), "-o", str(envelope_file))

    imported = hn.gateway("import", str(envelope_file), check=False)

    assert imported.returncode == 2
    assert b"not_for_us" in imported.stderr
    assert b"Traceback" not in imported.stderr
    (row,) = inbox_rows(hn, sent["notice_id"])
    assert row["message_id"] == message_id_for(status, "hn-ncp")


def test_modus_operandi_notice_goes_to_every_party_without_the_case(fed: Federation) -> None:
    sent = send(fed["fr-ncp"], MO_NOTICE)
    assert sent["recipients"] == [
        {"node_id": "br-ncp", "roles": ["parties"]},
        {"node_id": "hn-ncp", "roles": ["parties"]},
    ]
    wait_delivered(fed["fr-ncp"], sent["notice_id"])
    # para10 grants parties the methods, the facts and the handling; not even the case.
    expected = as_document(MO_NOTICE)
    del expected["case"]
    for node_id in ("br-ncp", "hn-ncp"):
        (row,) = inbox_rows(fed[node_id], sent["notice_id"])
        assert row["kind"] == "modus_operandi"
        assert row["roles"] == ["parties"]
        shown = fed[node_id].json("show", sent["notice_id"])
        assert received(shown["notice"]) == expected
