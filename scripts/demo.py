"""`make demo`: three nodes on loopback exchange a victim-identification notice under an SOP.

France (destination) identifies a victim and notifies Brazil (origin) and Honduras (transit)
under sops/para8-victim-notification.toml: one officer drafts the notice, a second approves it
(four-eyes), it is sent, and Brazil acknowledges it back to France. Each node is a separate
`gateway serve` process on 127.0.0.1. Exits 0 when every step checked out, or non-zero naming
the step that failed.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.localnet import LocalNode, wait_for  # noqa: E402

WORK = ROOT / "demo-data"
NOTICE = ROOT / "tests" / "fixtures" / "notices" / "victim-identification.toml"
STEPS = 10


class StepFailed(Exception):
    pass


def step(n: int, text: str) -> None:
    print(f"\n[{n}/{STEPS}] {text}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)
    print(f"      ok: {message}")


def groups(notice: dict[str, object]) -> list[str]:
    return sorted(k for k, v in notice.items() if isinstance(v, dict))


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    fr = LocalNode("fr-ncp", "FR", "France - OCRTEH (destination)", WORK / "fr-ncp")
    br = LocalNode("br-ncp", "BR", "Brazil - national focal point (origin)", WORK / "br-ncp")
    hn = LocalNode("hn-ncp", "HN", "Honduras - national focal point (transit)", WORK / "hn-ncp")
    nodes = [fr, br, hn]
    current = 0
    try:
        current = 1
        step(1, "Create three nodes, each with its own keys (files mode 0600)")
        for node in nodes:
            fingerprint = node.init()
            print(f"      {node.node_id:8} {node.name:42} fingerprint {fingerprint}")
        check(
            all((n.data_dir / "keys" / "signing.key").stat().st_mode & 0o077 == 0 for n in nodes),
            "no key file is readable by other users",
        )

        current = 2
        step(2, "Exchange cards; each operator confirms the fingerprint before trusting a peer")
        for node in nodes:
            node.trust([o for o in nodes if o is not node])
        bad = fr.gateway(
            "peer",
            "add",
            str(WORK / "br-ncp.gwcard"),
            "--fingerprint",
            "0000 0000 0000 0000 0000 0000 0000 0000",
            check=False,
        )
        check(
            bad.returncode == 2 and b"fingerprint mismatch" in bad.stderr,
            "a card with a wrong fingerprint is refused",
        )
        check(len(fr.json("peer", "list")) == 2, "France trusts Brazil and Honduras")

        current = 3
        step(3, "Start the three nodes on 127.0.0.1 (separate processes)")
        for node in nodes:
            node.start()
            print(f"      {node.node_id:8} listening on {node.endpoint}")

        current = 4
        step(4, f"France drafts, approves and sends a notice ({NOTICE.relative_to(ROOT)})")
        drafted = fr.json("draft", str(NOTICE), "--user", "officer-durand")
        notice_id = drafted["notice_id"]
        print(f"      drafted by officer-durand: {notice_id}, {drafted['state']}")
        for r in drafted["recipients"]:
            groups_seen = sorted({path.split(".")[0] for path in r["fields"]})
            print(
                f"      plan -> {r['node_id']:8} as {', '.join(r['roles'])}:"
                f" {', '.join(groups_seen)}"
            )
        early = fr.gateway("send", notice_id, "--user", "officer-durand", check=False)
        check(early.returncode == 1, "sending before approval is refused")
        own = fr.gateway("approve", notice_id, "--user", "officer-durand", check=False)
        check(
            own.returncode == 1 and b"cannot approve" in own.stderr,
            "the drafter cannot approve their own notice (four-eyes)",
        )
        approved = fr.json("approve", notice_id, "--user", "officer-martin")
        check(approved["state"] == "approved", "officer-martin approves it")
        sent = fr.json("send", notice_id, "--user", "officer-durand")
        for r in sent["recipients"]:
            print(f"      -> {r['node_id']:8} as {', '.join(r['roles'])}")
        check(
            {r["node_id"] for r in sent["recipients"]} == {"br-ncp", "hn-ncp"},
            f"notice {notice_id} routed by the SOP to the origin and transit countries",
        )

        current = 5
        step(5, "Wait for delivery: each receiver verifies, stores, and signs a receipt")

        def all_delivered() -> dict | None:
            status = fr.json("status", notice_id)
            return status if all(r["state"] == "delivered" for r in status["recipients"]) else None

        status = wait_for(all_delivered, timeout=30, what="both receipts")
        for r in status["recipients"]:
            print(
                f"      {r['node_id']:8} delivered, signed receipt verified at {r['delivered_at']}"
            )
        check(True, "both receipts verified by France against the receivers' signing keys")

        current = 6
        step(6, "Brazil (origin) opens the full notice; Honduras (transit) gets no victim data")
        br_notice = br.json("show", notice_id)["notice"]
        hn_notice = hn.json("show", notice_id)["notice"]
        print(f"      Brazil sees groups:   {', '.join(groups(br_notice))}")
        print(f"      Honduras sees groups: {', '.join(groups(hn_notice))}")
        check("victim" in br_notice, "Brazil, the origin country, received the victim group")
        check(
            "victim" not in hn_notice,
            "Honduras, a transit country, did not receive the victim group",
        )
        check("modus_operandi" in hn_notice, "Honduras received the route and the means")

        current = 7
        step(7, "Brazil acknowledges; France records the acknowledgement against Brazil")
        ack = br.json("ack", notice_id, "--user", "agente-silva", "--contact", "PF/DETRAP")
        print(
            f"      Brazil sent acknowledgement {ack['notice_id']}"
            f" to {ack['recipients'][0]['node_id']}"
        )

        def acknowledged() -> dict | None:
            status = fr.json("status", notice_id)
            states = {r["node_id"]: r["state"] for r in status["recipients"]}
            return status if states.get("br-ncp") == "acknowledged" else None

        status = wait_for(acknowledged, timeout=30, what="Brazil's acknowledgement")
        for r in status["recipients"]:
            print(f"      {r['node_id']:8} {r['state']:13} acknowledged {r['acknowledged_at']}")
        check(True, "France holds Brazil's signed acknowledgement; Honduras's is still due")

        current = 8
        step(8, "Witnessing: each node checks its peers' logs are consistent, and cosigns them")
        for node in nodes:
            for line in node.gateway("audit", "witness").stdout.decode().splitlines():
                print(f"      {node.node_id:8} witnessed {line}")
        note = fr.gateway("audit", "checkpoint").stdout.decode()
        print("      France's latest checkpoint, with its cosignatures:")
        for line in note.splitlines():
            print(f"        {line}")
        check(
            "\u2014 gateway.br-ncp/witness " in note,
            "Brazil cosigned France's checkpoint (C2SP tlog-cosignature)",
        )

        current = 9
        step(9, "Each operator runs `gateway audit verify` (offline, recomputes everything)")
        for node in nodes:
            first = node.gateway("audit", "verify").stdout.decode().splitlines()
            print(f"      {node.node_id:8} {first[0]}; {first[1].strip()}")
        check(True, "all three audit logs, checkpoints and cosignatures verify")

        current = 10
        step(10, "Stop the nodes")
        for node in nodes:
            node.stop()
        check(True, "all nodes stopped")
    except Exception as exc:  # any failure: say which step, and leave no node running
        print(f"\nDEMO FAILED at step {current}: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"node logs are in {WORK}", file=sys.stderr)
        return 1
    finally:
        for node in nodes:
            node.stop()
    print(f"\nDemo finished in {time.monotonic() - started:.1f}s. Data and logs: {WORK}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
