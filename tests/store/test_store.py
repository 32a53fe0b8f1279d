"""The store: migrations, inbox dedup and replay, outbox lifecycle, payloads at rest."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.core.at_rest import AtRestError
from gateway.core.card import NodeCard
from gateway.core.keys import NodeKeys
from gateway.errors import ConfigError, NotFound, Replayed
from gateway.store.store import NewInboxRow, NoticeRow, OutboxRow, Store

STORAGE_KEY = b"k" * 32
SECRET = b"Ana Exemplo Teste, passport BR1234567"


def inbox_row(message_id: bytes = b"m" * 16, digest: bytes = b"d" * 32) -> NewInboxRow:
    return NewInboxRow(
        sender="fr-ncp",
        message_id=message_id,
        notice_id="N-1",
        kind="victim_identification",
        sop_id="para8-victim-notification",
        sop_version=1,
        roles="origin",
        header=b"h",
        header_digest=digest,
        received_at_ms=1000,
        receipt=b"receipt-" + message_id,
        payload=SECRET,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "gateway.db", STORAGE_KEY)
    yield s
    await s.close()


async def test_migrations_apply_once_and_reopen(tmp_path: Path) -> None:
    s = await Store.open(tmp_path / "g.db", STORAGE_KEY)
    await s.close()
    s = await Store.open(tmp_path / "g.db", STORAGE_KEY)
    assert s.directory_version() == 0
    await s.close()
    with sqlite3.connect(tmp_path / "g.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "g.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(ConfigError, match="newer than this gateway"):
        await Store.open(tmp_path / "g.db", STORAGE_KEY)


async def test_accept_stores_once_and_returns_the_original_receipt(store: Store) -> None:
    assert await store.accept(inbox_row()) == (True, b"receipt-" + b"m" * 16)
    again = dataclasses.replace(inbox_row(), receipt=b"a-new-receipt")
    assert await store.accept(again) == (False, b"receipt-" + b"m" * 16)
    assert len(await store.inbox()) == 1


async def test_same_message_id_with_other_content_is_a_replay(store: Store) -> None:
    await store.accept(inbox_row())
    with pytest.raises(Replayed):
        await store.accept(inbox_row(digest=b"e" * 32))
    assert len(await store.inbox()) == 1


async def test_payload_is_encrypted_at_rest(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "gateway.db", STORAGE_KEY)
    await store.accept(inbox_row())
    entry, payload = await store.inbox_item("N-1", actor="alice", now_ms=2000)
    assert payload == SECRET and entry.roles == "origin" and not entry.shredded
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("gateway.db*"))
    assert b"Ana Exemplo" not in raw and b"BR1234567" not in raw
    wrong_key = await Store.open(tmp_path / "gateway.db", b"x" * 32)
    try:
        with pytest.raises(AtRestError, match="does not decrypt"):
            await wrong_key.inbox_item("N-1", actor="alice", now_ms=2000)
    finally:
        await wrong_key.close()


async def test_inbox_item_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.inbox_item("N-404", actor="alice", now_ms=2000)


async def test_outbox_lifecycle(store: Store) -> None:
    row = NoticeRow(
        notice_id="N-1",
        kind="victim_identification",
        sop_id="s",
        sop_version=1,
        state="dispatched",
        created_at_ms=1000,
        drafter="alice",
    )
    out = OutboxRow(
        message_id=b"m" * 16,
        peer="br-ncp",
        notice_id="N-1",
        roles="origin",
        envelope=b"env",
        header=b"hdr",
        created_at_ms=1000,
        expires_at_ms=9000,
    )
    out2 = dataclasses.replace(out, peer="hn-ncp")
    await store.create_notice(row, SECRET, [out, out2])
    due = await store.due_outbox(1000, 10)
    assert {i.peer for i in due} == {"br-ncp", "hn-ncp"}
    assert await store.due_outbox(1000, 10, skip={(b"m" * 16, "br-ncp")}) == [
        i for i in due if i.peer == "hn-ncp"
    ]
    assert await store.due_outbox(999, 10) == []
    await store.mark_retry(b"m" * 16, "br-ncp", 5000, "cannot reach peer")
    assert [i.peer for i in await store.due_outbox(1000, 10)] == ["hn-ncp"]
    await store.mark_delivered(b"m" * 16, "hn-ncp", b"receipt", 1200, 1300)
    await store.mark_final(b"m" * 16, "br-ncp", "expired", "gave up", "expired", 1400)
    notice, recipients = await store.notice("N-1")
    # No acknowledgement is expected (no SOP deadline given), and every recipient has a final
    # state: the notice is closed (gateway/core/lifecycle.py).
    assert notice.state == "closed"
    assert {(r.peer, r.state, r.attempts) for r in recipients} == {
        ("br-ncp", "expired", 2),
        ("hn-ncp", "delivered", 1),
    }
    # a delivered row is final: a late retry or expiry does not change it
    await store.mark_final(b"m" * 16, "hn-ncp", "expired", "late", "expired", 1500)
    assert {r.state for r in (await store.notice("N-1"))[1]} == {"expired", "delivered"}
    assert await store.outbox_envelope(b"m" * 16) == b"env"


async def test_peers_add_revoke_and_directory_version(store: Store) -> None:
    keys = NodeKeys.generate()
    card = NodeCard(
        node_id="br-ncp",
        country="BR",
        name="Brazil",
        endpoint="http://127.0.0.1:1",
        signing_key=keys.signing.public_key,
        encryption_key=keys.encryption.public_key,
        audit_key=keys.audit.public_key,
        valid_from_ms=0,
        valid_until_ms=10,
    )
    await store.add_peer(card, b"card-bytes", 1)
    assert store.directory_version() == 1
    with pytest.raises(ConfigError, match="already"):
        await store.add_peer(card, b"card-bytes", 2)
    _, directory = await store.load_directory()
    assert directory.sender_for_key(keys.signing.key_id).node_id == "br-ncp"
    assert "revoked signing key" in await store.revoke(keys.signing.key_id.hex(), 3)
    _, directory = await store.load_directory()
    with pytest.raises(Exception, match="revoked"):
        directory.sender_for_key(keys.signing.key_id)
    assert "revoked peer br-ncp" in await store.revoke("br-ncp", 4)
    assert (await store.load_directory())[1].peer("br-ncp").revoked
    with pytest.raises(NotFound):
        await store.revoke("nobody", 5)
