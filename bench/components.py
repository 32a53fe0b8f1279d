"""Component limits: what one core can do for each step a notice goes through.

Each figure is operations per second on one core, measured here and now, so that the end-to-end
rate can be reported as a ratio against them rather than as an absolute that means nothing on
another machine.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.core import crypto, envelope
from gateway.core import notice as notices
from gateway.core.directory import Directory, PeerKey, PeerRecord
from gateway.core.keys import EncryptionKeyPair, SigningKeyPair

ROOT = Path(__file__).resolve().parent.parent
NOTICE_FILE = ROOT / "tests" / "fixtures" / "notices" / "victim-identification.toml"


def rate(fn: Callable[[], Any], *, seconds: float = 0.5) -> float:
    """Calls per second of `fn`, timed over about `seconds` after a short warm-up."""
    for _ in range(20):
        fn()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def sample_payload() -> bytes:
    doc = tomllib.loads(NOTICE_FILE.read_text())
    notice = notices.parse_notice_document(doc, source=str(NOTICE_FILE))
    notice.notice_id, notice.sender_node_id, notice.sop_version = "N-BENCH", "fr-ncp", 1
    return notice.SerializeToString()


def crypto_limits() -> dict[str, float]:
    signer = SigningKeyPair.generate()
    enc = EncryptionKeyPair.generate()
    msg = crypto.random_bytes(300)
    sig = signer.sign(b"", msg)
    key, nonce = crypto.random_bytes(32), crypto.random_bytes(24)
    two_kb = crypto.random_bytes(2048)
    ct = crypto.aead_encrypt(key, nonce, two_kb, msg)
    sealed = crypto.seal_to(enc.public_key, key)
    return {
        "ed25519_sign_per_s": rate(lambda: signer.sign(b"", msg)),
        "ed25519_verify_per_s": rate(lambda: crypto.ed25519_verify(signer.public_key, msg, sig)),
        "sealed_box_seal_per_s": rate(lambda: crypto.seal_to(enc.public_key, key)),
        "sealed_box_open_per_s": rate(lambda: crypto.unseal(enc.private_key, sealed)),
        "aead_2kb_encrypt_per_s": rate(lambda: crypto.aead_encrypt(key, nonce, two_kb, msg)),
        "aead_2kb_decrypt_per_s": rate(lambda: crypto.aead_decrypt(key, nonce, ct, msg)),
    }


def envelope_limits() -> dict[str, float]:
    """Seal for one recipient, and open with the same checks a node runs (minus storage)."""
    sender, receiver = SigningKeyPair.generate(), EncryptionKeyPair.generate()
    payload = sample_payload()
    directory = Directory.of(
        [
            PeerRecord(
                node_id="fr-ncp",
                country="FR",
                name="France",
                endpoint="http://127.0.0.1:1",
                fingerprint="-",
                revoked=False,
                keys=(
                    PeerKey(
                        key_id=sender.key_id,
                        node_id="fr-ncp",
                        purpose="signing",
                        public_key=sender.public_key,
                        revoked=False,
                    ),
                ),
            )
        ]
    )
    recipient = envelope.RecipientKey(node_id="br-ncp", encryption_key=receiver.public_key)
    now = int(time.time() * 1000)

    def seal() -> envelope.SealedEnvelope:
        return envelope.seal(
            payload=payload,
            notice_id="N-BENCH",
            kind="victim_identification",
            sop_id="para8-victim-notification",
            sop_version=1,
            tlp="amber",
            handling_code="h2",
            created_at_ms=now,
            expires_at_ms=now + 3_600_000,
            sender_node_id="fr-ncp",
            signing=sender,
            recipients=[recipient],
        )

    data = seal().data

    def check_payload(header: envelope.EnvelopeHeader, body: bytes) -> object:
        notice = notices.decode_notice(body)
        notices.validate_notice(notice)
        return notices.present_fields(notice)

    def open_() -> object:
        return envelope.open_envelope(
            data,
            node_id="br-ncp",
            encryption=receiver,
            directory=directory,
            now_ms=now,
            check_header=lambda h: None,
            check_payload=check_payload,
        )

    return {
        "envelope_bytes": float(len(data)),
        "envelope_seal_per_s": rate(seal),
        "envelope_open_per_s": rate(open_),
    }


async def _http_round_trips(seconds: float, concurrency: int) -> float:
    """POST round trips per second against a trivial aiohttp server in a child process."""
    import sys

    from gateway.localnet import free_port, wait_for

    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.echo_server",
        str(port),
        cwd=str(ROOT),
    )
    try:
        import aiohttp

        body = crypto.random_bytes(2500)
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/echo"

            async def up() -> bool:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                        return r.status == 200
                except aiohttp.ClientError:
                    return False

            deadline = time.monotonic() + 20
            while not await up():
                if time.monotonic() > deadline:
                    raise TimeoutError("echo server did not start")
                await asyncio.sleep(0.05)
            del wait_for
            count = 0
            stop = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal count
                while time.perf_counter() < stop:
                    async with session.post(url, data=body) as r:
                        await r.read()
                    count += 1

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return count / (time.perf_counter() - start)
    finally:
        server.terminate()
        await server.wait()


async def _sqlite_group_commit(tmp: Path, seconds: float, concurrency: int) -> float:
    """Rows per second through the store's group-committing writer (synchronous=FULL)."""
    from gateway.store.db import Database

    db = await Database.open(tmp / "bench.db")
    await db.write(lambda c: c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)"))
    blob = crypto.random_bytes(2500)
    count = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < stop:
            await db.write(lambda c: c.execute("INSERT INTO t (v) VALUES (?)", (blob,)))
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    await db.close()
    return count / elapsed


def io_limits(tmp: Path) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "http_post_round_trips_per_s": asyncio.run(_http_round_trips(2.0, 64)),
        "sqlite_group_commit_rows_per_s": asyncio.run(_sqlite_group_commit(tmp, 2.0, 128)),
    }
