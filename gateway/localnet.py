"""Run a small federation of real nodes on loopback, each in its own process.

Used by `make demo`, the end-to-end tests and the benchmarks. Nodes listen on 127.0.0.1 only.
Every wait here is for a condition (a port answering, a state reached) with a deadline, never
a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LocalNode", "free_port", "wait_for"]

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(
    condition: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Poll `condition` until it returns something truthy; raise TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


@dataclass
class LocalNode:
    """One node: a data directory, and a `gateway serve` process when started."""

    node_id: str
    country: str
    name: str
    data_dir: Path
    sops_dir: Path = ROOT / "sops"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.node_id}.log"

    def gateway(
        self, *args: str, check: bool = True, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `gateway -d DATA_DIR ARGS...` to completion."""
        proc = subprocess.run(
            [sys.executable, "-m", "gateway", "-d", str(self.data_dir), *args],
            capture_output=True,
            input=input,
            env={**os.environ, **self.env},
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"`gateway {' '.join(args)}` on {self.node_id} exited {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.gateway(*args, "--json").stdout)

    def init(self, *extra: str) -> str:
        """Create the node; returns its fingerprint."""
        out = self.gateway(
            "init",
            "--node-id",
            self.node_id,
            "--country",
            self.country,
            "--name",
            self.name,
            "--listen",
            f"{LOOPBACK}:{self.port}",
            "--sops",
            str(self.sops_dir),
            *extra,
        ).stdout.decode()
        return out.split("fingerprint: ", 1)[1].split("\n", 1)[0].strip()

    def export_card(self) -> tuple[Path, str]:
        path = self.data_dir.parent / f"{self.node_id}.gwcard"
        out = self.gateway("card", "export", "-o", str(path)).stdout.decode()
        return path, out.split("fingerprint: ", 1)[1].strip()

    def trust(self, others: Sequence[LocalNode]) -> None:
        for other in others:
            card, fingerprint = other.export_card()
            self.gateway("peer", "add", str(card), "--fingerprint", fingerprint)

    def start(self) -> None:
        log = open(self.log_path, "ab")  # the child process keeps its own copy
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "-d",
                str(self.data_dir),
                "serve",
                "--log-format",
                "json",
            ],
            stdout=log,
            stderr=log,
            env={**os.environ, **self.env},
        )
        log.close()
        wait_for(self._healthy, timeout=30, what=f"{self.node_id} to answer /healthz")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"{self.node_id} exited with {self.process.returncode}; see {self.log_path}"
            )
        try:
            with urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), escalating to SIGKILL after 10 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
