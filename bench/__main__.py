"""`make bench`: component limits and the gateway end to end, in one run (DESIGN.md 12).

End to end: two nodes, each its own process, on loopback. The receiver (`gateway serve`)
verifies, decrypts, stores durably (synchronous=FULL, group commit) and signs a receipt before
answering; the sender (bench/sender.py, a full node) parses, plans, seals, commits its outbox,
delivers and verifies each receipt. Figures are reported with their ratio to the component
limits measured in the same run, since absolute rates mean little across machines.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import audit as audit_bench
from bench import components
from gateway.localnet import LocalNode

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench-data"
LIGHT_COUNT = 300
LOAD_COUNT = 6000
LOAD_WINDOW = 256


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def end_to_end() -> dict[str, Any]:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    sender = LocalNode("fr-ncp", "FR", "France (bench sender)", WORK / "fr-ncp")
    receiver = LocalNode("br-ncp", "BR", "Brazil (bench receiver)", WORK / "br-ncp")
    for node in (sender, receiver):
        node.init()
    sender.trust([receiver])
    receiver.trust([sender])
    # The demo notice, without a transit country: one recipient, the origin (the receiver).
    doc = tomllib.loads(components.NOTICE_FILE.read_text())
    doc["case"].pop("transit_countries", None)
    # Identified just now: within the SOP's dispatch deadline, so no escalation per notice.
    doc["case"]["identified_at"] = datetime.now(UTC).isoformat()
    notice_file = WORK / "notice.json"
    notice_file.write_text(json.dumps(doc, default=str))
    receiver.start()
    try:
        idle_rss = rss_mb(receiver.process.pid)  # type: ignore[union-attr]

        def drive(count: int, window: int) -> dict[str, Any]:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.sender",
                    str(sender.data_dir),
                    str(notice_file),
                    str(count),
                    str(window),
                ],
                capture_output=True,
                check=False,
                cwd=ROOT,
                timeout=600,
            )
            if out.returncode != 0:
                raise RuntimeError(f"bench sender failed: {out.stderr.decode()[-2000:]}")
            result: dict[str, Any] = json.loads(out.stdout)
            return result

        progress(f"  light load: {LIGHT_COUNT} notices, one at a time")
        light = drive(LIGHT_COUNT, 1)
        progress(f"  full load: {LOAD_COUNT} notices, {LOAD_WINDOW} in flight")
        load = drive(LOAD_COUNT, LOAD_WINDOW)
        loaded_rss = rss_mb(receiver.process.pid)  # type: ignore[union-attr]
        stored = len(receiver.json("inbox", "--limit", str(10 * LOAD_COUNT)))
    finally:
        receiver.stop()
    expected = LIGHT_COUNT + LOAD_COUNT
    if stored != expected:
        raise RuntimeError(f"receiver stored {stored} notices, expected {expected}")
    lat_ms = [x * 1000 for x in light["latencies_s"]]
    load_ms = [x * 1000 for x in load["latencies_s"]]
    return {
        "e2e_notices_per_s": load["count"] / load["seconds"],
        "e2e_p50_ms": statistics.median(lat_ms),
        "e2e_p99_ms": percentile(lat_ms, 99),
        "e2e_loaded_p50_ms": statistics.median(load_ms),
        "e2e_loaded_p99_ms": percentile(load_ms, 99),
        "receiver_idle_rss_mb": idle_rss,
        "receiver_loaded_rss_mb": loaded_rss,
        "notices_stored": stored,
    }


def main() -> int:
    progress("measuring component limits (one core each)")
    limits = {**components.crypto_limits(), **components.envelope_limits()}
    limits.update(components.io_limits(ROOT / "bench-data-io"))
    shutil.rmtree(ROOT / "bench-data-io", ignore_errors=True)
    progress("measuring end to end (two nodes, separate processes, loopback)")
    e2e = end_to_end()
    slowest_name = min(
        (
            "envelope_open_per_s",
            "envelope_seal_per_s",
            "http_post_round_trips_per_s",
            "sqlite_group_commit_rows_per_s",
        ),
        key=lambda k: limits[k],
    )
    result = {
        **e2e,
        **limits,
        "ratio_e2e_to_open": e2e["e2e_notices_per_s"] / limits["envelope_open_per_s"],
        "slowest_component": slowest_name,
        "ratio_e2e_to_slowest_component": e2e["e2e_notices_per_s"] / limits[slowest_name],
    }
    progress(
        f"measuring `gateway audit verify` on a {audit_bench.LEAVES:,}-leaf log, and proof sizes"
    )
    result.update(audit_bench.measure())
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))
    print()
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown:>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
