"""How a sending node treats what a peer answers, against a scripted peer.

France is a real node. "Brazil" is a small HTTP server in this process, on the port of Brazil's
card, answering with signatures made by Brazil's real signing key: so every answer below
verifies, and only what it says differs. A signed rejection is final for the envelope it names
(DESIGN.md section 6); it must not end the delivery of another one.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway._pb.gateway.v1 import envelope_pb2
from gateway.core import receipts
from gateway.core.keys import SigningKeyPair
from gateway.localnet import LOOPBACK, wait_for
from gateway.store.keyfiles import load_keys
from tests.e2e.federation import NOTICES, Federation, MakeFederation, send, status

MO_NOTICE = NOTICES / "modus-operandi.toml"


class ScriptedPeer(http.server.ThreadingHTTPServer):
    """Answers POST /v1/envelopes with `self.answer(envelope bytes) -> (status, body)`."""

    daemon_threads = True

    def __init__(self, port: int, answer: Callable[[bytes], tuple[int, bytes]]) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.answer = answer


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ScriptedPeer

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        status, body = self.server.answer(data)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def message_id_of(envelope: bytes) -> bytes:
    """The message id in an envelope's header (read, not verified: we only answer it)."""
    outer = envelope_pb2.SignedEnvelope.FromString(envelope)
    return envelope_pb2.Header.FromString(outer.header).message_id


class Brazil:
    """Refuses every envelope as fields_not_allowed (final), bound to it as a real node does
    (message id, digest of the bytes), or replays the last rejection it made."""

    def __init__(self, signing: SigningKeyPair) -> None:
        self.signing = signing
        self.recorded: bytes | None = None
        self.replay = False

    def answer(self, envelope: bytes) -> tuple[int, bytes]:
        if self.replay and self.recorded is not None:
            return 422, self.recorded
        rejection = receipts.make_rejection(
            receipts.Rejection(
                message_id=message_id_of(envelope),
                rejecter_node_id="br-ncp",
                code="fields_not_allowed",
                reason="the notice carries fields its SOP does not grant this node's role",
                rejected_at_ms=time.time_ns() // 1_000_000,
                envelope_digest=receipts.envelope_digest(envelope),
            ),
            self.signing,
        )
        self.recorded = rejection
        return 422, rejection


@pytest.fixture(scope="module")
def fed(make_federation: MakeFederation) -> Federation:
    federation = make_federation("fr-ncp", "br-ncp", trust_all=False, start=False)
    federation.trust("fr-ncp", ["br-ncp"])
    federation.start("fr-ncp")
    return federation


@pytest.fixture(scope="module")
def brazil(fed: Federation) -> Iterator[Brazil]:
    script = Brazil(load_keys(fed["br-ncp"].data_dir / "keys").node.signing)
    server = ScriptedPeer(fed["br-ncp"].port, script.answer)
    thread = threading.Thread(target=server.serve_forever, name="scripted-br-ncp", daemon=True)
    thread.start()
    yield script
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def first_attempt(fed: Federation, notice_id: str) -> dict[str, Any]:
    def attempted() -> dict[str, Any] | None:
        (recipient,) = status(fed["fr-ncp"], notice_id)["recipients"]
        return recipient if recipient["attempts"] >= 1 else None

    result: dict[str, Any] = wait_for(attempted, what=f"a delivery attempt of {notice_id}")
    return result


def test_a_signed_rejection_of_the_envelope_ends_its_delivery(
    fed: Federation, brazil: Brazil
) -> None:
    brazil.replay = False
    notice_id = send(fed["fr-ncp"], MO_NOTICE)["notice_id"]

    recipient = first_attempt(fed, notice_id)

    assert recipient["state"] == "rejected", recipient
    assert "fields_not_allowed" in recipient["last_error"]


def test_a_rejection_kept_from_another_envelope_does_not_end_this_ones_delivery(
    fed: Federation, brazil: Brazil
) -> None:
    """Anyone on the path who kept one signed final rejection from a peer (here
    fields_not_allowed) could answer every later envelope to that peer with it; the sender
    must not mark those `rejected` for good. (It did, until rejections were bound to the
    bytes they refuse.)"""
    brazil.replay = False
    first = send(fed["fr-ncp"], MO_NOTICE)["notice_id"]
    assert first_attempt(fed, first)["state"] == "rejected"  # a genuine rejection, recorded
    brazil.replay = True
    notice_id = send(fed["fr-ncp"], MO_NOTICE)["notice_id"]

    recipient = first_attempt(fed, notice_id)

    assert recipient["state"] == "queued", recipient  # not a rejection of this envelope
