"""The audit log across real nodes on 127.0.0.1: no victim data in leaves, checkpoints in
receipts, witnessing with cosignatures, the peer endpoints' errors, the `gateway audit` CLI,
and a peer whose log was forked being caught by its witness."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gateway.localnet import LocalNode
from gateway.store.keyfiles import load_keys
from tests.e2e.federation import (
    NODES,
    NOTICES,
    SOPS,
    Federation,
    MakeFederation,
    send,
    wait_delivered,
)
from tests.store.test_audit_witness import fork_log

VICTIM_NOTICE = NOTICES / "victim-identification.toml"
# Personal and case data from the fixture: none of it may appear in any audit leaf.
PERSONAL = (
    "Exemplo Teste",
    "Ana Exemplo",
    "2003-07-21",
    "XX0000001",
    "2031-05-09",
    "Vagas Europa",
    "+55 00 00000-0000",
    "Lyon",
    "FR-OCRTEH-2025-00142",
    "identification of the recruiters",
)


@pytest.fixture(scope="module")
def sop_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The SOPs in sops/, with no approval step: the audit tests need an exchange, not the
    notice lifecycle (tests of their own cover approvals)."""
    base = tmp_path_factory.mktemp("audit-sops")
    for path in SOPS.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        (base / path.name).write_text(
            re.sub(r"(?m)^approvals = \d+", "approvals = 0", text), encoding="utf-8"
        )
    return sorted(base.glob("*.toml"))


@pytest.fixture(scope="module")
def fed(make_federation: MakeFederation, sop_files: list[Path]) -> Federation:
    federation = make_federation(
        "fr-ncp", "br-ncp", "hn-ncp", sop_files=dict.fromkeys(NODES, sop_files)
    )
    sent = send(federation["fr-ncp"], VICTIM_NOTICE)
    wait_delivered(federation["fr-ncp"], sent["notice_id"])
    federation["br-ncp"].gateway("show", sent["notice_id"])  # an audited opening
    return federation


def leaves(node: LocalNode) -> list[bytes]:
    with sqlite3.connect(f"file:{node.data_dir / 'gateway.db'}?mode=ro", uri=True) as conn:
        return [bytes(r[0]) for r in conn.execute("SELECT leaf FROM audit_leaves ORDER BY seq")]


def http(node: LocalNode, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(node.endpoint + path, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_leaves_hold_no_personal_data(fed: Federation) -> None:
    for node in fed.nodes.values():
        found = leaves(node)
        assert len(found) >= 3
        for leaf in found:
            text = leaf.decode("ascii")
            for value in PERSONAL:
                assert value.lower() not in text.lower(), (node.node_id, value)
    actions = {json.loads(leaf)["action"] for leaf in leaves(fed["br-ncp"])}
    assert {"peer_added", "envelope_received", "notice_opened"} <= actions


def test_the_sender_keeps_the_receivers_checkpoints_from_their_receipts(fed: Federation) -> None:
    db = fed["fr-ncp"].data_dir / "gateway.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT peer, size, source FROM audit_peer_checkpoints WHERE source = 'receipt'"
        ).fetchall()
    assert {peer for peer, _, _ in rows} == {"br-ncp", "hn-ncp"}
    assert all(size > 0 for _, size, _ in rows)


def test_a_witnessing_round_cosigns_and_every_log_verifies(fed: Federation) -> None:
    for node in fed.nodes.values():
        node.gateway("audit", "checkpoint", "--new")
    for node_id in ("br-ncp", "hn-ncp"):
        out = fed[node_id].gateway("audit", "witness").stdout.decode()
        assert "fr-ncp" in out and "COSIGNED" in out
    note = fed["fr-ncp"].gateway("audit", "checkpoint").stdout.decode()
    assert note.startswith("gateway.fr-ncp/audit\n")
    assert "\u2014 gateway.br-ncp/witness " in note
    assert "\u2014 gateway.hn-ncp/witness " in note
    for node in fed.nodes.values():
        result = json.loads(node.gateway("audit", "verify", "--json").stdout)
        assert result["ok"] and result["checkpoints"] >= 1
    verified = json.loads(fed["fr-ncp"].gateway("audit", "verify", "--json").stdout)
    assert set(verified["witnesses"]) >= {"br-ncp", "hn-ncp"}
    peers = fed["br-ncp"].json("audit", "peers")
    assert peers["alarms"] == []
    assert {p["peer"] for p in peers["peers"]} == {"fr-ncp", "hn-ncp"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=5&to=2", b"larger than"),
        ("from=1&to=1000000000", b"beyond the tree size"),
        ("from=abc&to=2", b"from must be a whole number"),
        ("from=1&to=-2", b"to must be a whole number"),
        ("to=2", b"from must be a whole number"),
        ("from=0&to=2", b"at least 1"),
    ],
)
def test_bad_consistency_requests_get_a_plain_400(
    fed: Federation, query: str, message: bytes
) -> None:
    status, body = http(fed["br-ncp"], f"/v1/audit/consistency?{query}")
    assert status == 400 and message in body, body


def test_checkpoint_and_consistency_endpoints(fed: Federation) -> None:
    status, note = http(fed["br-ncp"], "/v1/checkpoint")
    assert status == 200 and note.startswith(b"gateway.br-ncp/audit\n")
    assert http(fed["br-ncp"], "/v1/audit/checkpoint")[1].startswith(b"gateway.br-ncp/audit\n")
    assert http(fed["br-ncp"], "/v1/audit/consistency?from=1&to=1") == (200, b"")
    status, proof = http(fed["br-ncp"], "/v1/audit/consistency?from=1&to=3")
    assert status == 200 and len(proof.splitlines()) >= 1


def test_the_audit_cli(fed: Federation, tmp_path: Path) -> None:
    br = fed["br-ncp"]
    key = br.gateway("audit", "key").stdout.decode().strip()
    assert key.startswith("gateway.br-ncp/audit+")
    received = br.json("audit", "log", "--action", "envelope_received")
    assert len(received) == 1 and received[0]["peer"] == "fr-ncp"
    bad = br.gateway("audit", "log", "--action", "bogus", check=False)
    assert bad.returncode == 2 and b"--action" in bad.stderr

    br.gateway("audit", "checkpoint", "--new")
    proof = tmp_path / "proof.json"
    br.gateway("audit", "prove", str(received[0]["seq"]), "-o", str(proof))
    ok = br.gateway("audit", "prove", "--check", str(proof), "--key", key)
    assert b"OK: entry" in ok.stdout
    doc: dict[str, Any] = json.loads(proof.read_text())
    doc["leaf"] = doc["leaf"].replace("envelope_received", "notice_opened")
    proof.write_text(json.dumps(doc))
    bad = br.gateway("audit", "prove", "--check", str(proof), "--key", key, check=False)
    assert bad.returncode == 1 and b"FAILED" in bad.stderr

    bundle = tmp_path / "bundle.jsonl"
    br.gateway("audit", "export", "-o", str(bundle))
    ok = br.gateway("audit", "verify", "--bundle", str(bundle), "--key", key)
    assert b"OK" in ok.stdout
    lines = bundle.read_bytes().splitlines()
    lines[-1] = lines[-1].replace(b"fr-ncp", b"gt-ncp")
    bundle.write_bytes(b"\n".join(lines) + b"\n")
    bad = br.gateway("audit", "verify", "--bundle", str(bundle), "--key", key, check=False)
    assert bad.returncode == 1 and b"FAILED" in bad.stderr


def test_verify_names_an_edited_leaf_in_a_copy_of_a_running_nodes_database(
    fed: Federation, tmp_path: Path
) -> None:
    hn = fed["hn-ncp"]
    copy = LocalNode("hn-ncp", "HN", "copy", tmp_path / "hn-copy")
    shutil.copytree(hn.data_dir, copy.data_dir, ignore=shutil.ignore_patterns("gateway.db*"))
    with (
        sqlite3.connect(hn.data_dir / "gateway.db") as src,
        sqlite3.connect(copy.data_dir / "gateway.db") as dst,
    ):
        src.backup(dst)
    assert copy.gateway("audit", "verify").returncode == 0
    with sqlite3.connect(copy.data_dir / "gateway.db") as conn:
        leaf = conn.execute("SELECT leaf FROM audit_leaves WHERE seq = 1").fetchone()[0]
        conn.execute(
            "UPDATE audit_leaves SET leaf = ? WHERE seq = 1",
            (leaf.replace(b'"actor":"', b'"actor":"x'),),
        )
    bad = copy.gateway("audit", "verify", check=False)
    assert bad.returncode == 1
    assert b"audit verify FAILED: leaf 1" in bad.stderr and b"Traceback" not in bad.stderr


def test_a_peer_serving_a_forked_log_is_caught_by_its_witness(
    make_federation: MakeFederation,
) -> None:
    fed = make_federation("fr-ncp", "br-ncp")
    fr, br = fed["fr-ncp"], fed["br-ncp"]
    out = fr.gateway("audit", "witness").stdout.decode()
    assert "COSIGNED" in out
    br.stop()
    seed = load_keys(br.data_dir / "keys").node.audit.seed
    fork_log(br.data_dir / "gateway.db", "br-ncp", seed, extra=2)
    br.start()
    assert br.gateway("audit", "verify").returncode == 0  # self-consistent: only a witness sees
    caught = fr.gateway("audit", "witness", check=False)
    assert caught.returncode == 1 and b"ALARM" in caught.stdout
    peers = fr.json("audit", "peers")
    assert [(a["peer"], a["kind"]) for a in peers["alarms"]] == [("br-ncp", "inconsistent")]
    listed = fr.gateway("audit", "peers").stdout.decode()
    assert "ALARM" in listed and "br-ncp" in listed
