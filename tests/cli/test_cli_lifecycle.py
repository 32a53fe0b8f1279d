"""`gateway sop check|plan`, `draft`, `approve`, `send`, `escalations`, `purge` at the CLI.

Exit codes as in gateway/cli.py: 0 ok, 1 refused, 2 usage or a bad SOP or notice file. No node
is started: these run against a node's data directory, as an operator would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gateway.localnet import LocalNode
from tests.cli.test_cli import ROOT, VICTIM_NOTICE, assert_plain_error

SOPS = ROOT / "sops"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> LocalNode:
    """France, trusting Brazil and Honduras (never started)."""
    base = tmp_path_factory.mktemp("cli-lifecycle")
    fr = LocalNode("fr-ncp", "FR", "France", base / "fr-ncp")
    fr.init()
    for node_id, country in (("br-ncp", "BR"), ("hn-ncp", "HN")):
        other = LocalNode(node_id, country, node_id, base / node_id)
        other.init()
        card, fingerprint = other.export_card()
        fr.gateway("peer", "add", str(card), "--fingerprint", fingerprint)
    return fr


def test_sop_check_accepts_the_shipped_sops(node: LocalNode) -> None:
    files = [*SOPS.glob("*.toml"), *(SOPS / "examples").glob("*.toml")]
    result = node.gateway("sop", "check", *map(str, files))
    out = result.stdout.decode()
    assert "para8-victim-notification v1" in out and "4 SOP(s) valid" in out


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('to = ["sender"]', 'to = ["senders"]', ["unknown role 'senders'", "to"]),
        ('acknowledge_within = "48h"', 'acknowledge_within = "two days"', ["acknowledge_within"]),
        ('parties = ["*"]', 'parties = ["*"]\nsecret = 1', ["unknown key 'secret'"]),
        ('transit = ["case", "facts"', 'parties = ["victim"]\ntransit = ["case", "facts"', []),
        ("\n[sop]\n", "\n[sop\n", ["TOML syntax error"]),
    ],
    ids=["unknown-role", "bad-deadline", "unknown-key", "victim-to-parties", "bad-toml"],
)
def test_sop_check_names_file_line_and_field_and_exits_2(
    node: LocalNode, tmp_path: Path, old: str, new: str, fragments: list[str]
) -> None:
    text = (SOPS / "para8-victim-notification.toml").read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = node.gateway("sop", "check", str(bad), check=False)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert f"{bad}:" in stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


def test_duplicate_sop_ids_are_refused(node: LocalNode, tmp_path: Path) -> None:
    for name in ("a.toml", "b.toml"):
        shutil.copy(SOPS / "para10-modus-operandi.toml", tmp_path / name)
    result = node.gateway(
        "sop", "check", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"), check=False
    )
    assert result.returncode == 2
    assert_plain_error(result.stderr, f"{tmp_path / 'b.toml'}:", "also defined in")


def test_serve_refuses_a_bad_sop_set_with_exit_2(tmp_path: Path) -> None:
    sops_dir = tmp_path / "sops"
    sops_dir.mkdir()
    for name in ("a.toml", "b.toml"):  # the same id and version twice
        shutil.copy(SOPS / "para10-modus-operandi.toml", sops_dir / name)
    fr = LocalNode("fr-ncp", "FR", "France", tmp_path / "fr-ncp", sops_dir=SOPS)
    fr.init()
    fr.env["GATEWAY_SOPS_DIR"] = str(sops_dir)
    result = fr.gateway("serve", check=False)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert "version 1 is also defined in" in stderr and str(sops_dir) in stderr


def test_send_file_needing_approval_is_refused_with_what_to_do(node: LocalNode) -> None:
    result = node.gateway("send", str(VICTIM_NOTICE), check=False)
    assert result.returncode == 1
    assert_plain_error(result.stderr, "needs 1 approval", "gateway draft", "gateway approve")


def test_draft_approve_and_the_plan(node: LocalNode) -> None:
    preview = json.loads(node.gateway("sop", "plan", str(VICTIM_NOTICE), "--json").stdout)
    assert [r["node_id"] for r in preview["recipients"]] == ["br-ncp", "hn-ncp"]
    transit = preview["recipients"][1]
    assert not [f for f in transit["fields"] if f.startswith("victim.")]
    assert json.loads(node.gateway("status", "--json").stdout)["notices"] == []  # not stored

    drafted = json.loads(
        node.gateway("draft", str(VICTIM_NOTICE), "--user", "ana", "--json").stdout
    )
    notice_id = drafted["notice_id"]
    assert drafted["state"] == "awaiting_approval"
    assert drafted["recipients"] == preview["recipients"]
    assert drafted["acknowledge_within"] == "2d"
    own = node.gateway("approve", notice_id, "--user", "ana", check=False)
    assert own.returncode == 1
    assert_plain_error(own.stderr, "ana drafted it")
    early = node.gateway("send", notice_id, "--user", "ana", check=False)
    assert early.returncode == 1
    assert_plain_error(early.stderr, "awaiting approval")
    node.gateway("approve", notice_id, "--user", "bea")
    twice = node.gateway("approve", notice_id, "--user", "bea", check=False)
    assert twice.returncode == 1
    status = json.loads(node.gateway("status", notice_id, "--json").stdout)
    assert status["state"] == "approved" and status["approvers"] == ["bea"]
    sent = json.loads(node.gateway("send", notice_id, "--user", "ana", "--json").stdout)
    assert sent["notice_id"] == notice_id
    status = json.loads(node.gateway("status", notice_id, "--json").stdout)
    assert status["state"] == "dispatched"
    assert {r["state"] for r in status["recipients"]} == {"queued"}
    escalations = json.loads(node.gateway("escalations", "--json").stdout)
    assert isinstance(escalations, list)
    purge = json.loads(node.gateway("purge", "--dry-run", "--json").stdout)
    assert purge == {"dry_run": True, "notices": []}
