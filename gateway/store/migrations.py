"""Numbered schema migrations, applied in order at start (PRAGMA user_version records the last).

Never edit a migration that has shipped: add the next one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: peers, our notices, outbox, inbox, data keys.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT;
    INSERT INTO meta (key, value) VALUES ('directory_version', 0);

    CREATE TABLE peers (
        node_id TEXT PRIMARY KEY,
        country TEXT NOT NULL,
        name TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        card BLOB NOT NULL,
        fingerprint TEXT NOT NULL,
        added_at_ms INTEGER NOT NULL,
        revoked_at_ms INTEGER
    ) STRICT;

    CREATE TABLE peer_keys (
        key_id BLOB PRIMARY KEY,
        node_id TEXT NOT NULL REFERENCES peers (node_id),
        purpose TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption', 'audit')),
        public_key BLOB NOT NULL,
        added_at_ms INTEGER NOT NULL,
        revoked_at_ms INTEGER
    ) STRICT;

    -- Per-notice data keys, wrapped by the storage key; NULL once destroyed (crypto-shredding).
    CREATE TABLE data_keys (
        id INTEGER PRIMARY KEY,
        wrapped BLOB,
        destroyed_at_ms INTEGER
    ) STRICT;

    -- Notices this node wrote.
    CREATE TABLE notices (
        notice_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        sop_id TEXT NOT NULL,
        sop_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        drafter TEXT NOT NULL,
        data_key_id INTEGER NOT NULL REFERENCES data_keys (id),
        payload BLOB
    ) STRICT;

    -- One row per (envelope, peer), committed before anything is sent.
    CREATE TABLE outbox (
        message_id BLOB NOT NULL,
        peer TEXT NOT NULL,
        notice_id TEXT NOT NULL REFERENCES notices (notice_id),
        roles TEXT NOT NULL,
        envelope BLOB NOT NULL,
        header BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'expired', 'rejected')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error TEXT,
        delivered_at_ms INTEGER,
        receipt BLOB,
        PRIMARY KEY (message_id, peer)
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
    CREATE INDEX outbox_notice ON outbox (notice_id);

    -- Envelopes received; UNIQUE(sender, message_id) is the replay and duplicate guard.
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        sender TEXT NOT NULL,
        message_id BLOB NOT NULL,
        notice_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        sop_id TEXT NOT NULL,
        sop_version INTEGER NOT NULL,
        roles TEXT NOT NULL,
        header BLOB NOT NULL,
        header_digest BLOB NOT NULL,
        received_at_ms INTEGER NOT NULL,
        receipt BLOB NOT NULL,
        data_key_id INTEGER NOT NULL REFERENCES data_keys (id),
        payload BLOB,
        UNIQUE (sender, message_id)
    ) STRICT;
    """,
    # 2: the audit log: leaves, the Merkle nodes they complete, signed checkpoints.
    """
    CREATE TABLE audit_leaves (
        seq INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        notice_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        peer TEXT NOT NULL,
        outcome TEXT NOT NULL,
        leaf BLOB NOT NULL,
        leaf_hash BLOB NOT NULL
    ) STRICT;
    CREATE INDEX audit_leaves_notice ON audit_leaves (notice_id);
    CREATE INDEX audit_leaves_time ON audit_leaves (time_ms);

    -- Every perfect subtree of the log, written once when it completes (level 0: leaves).
    CREATE TABLE audit_nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID;

    -- Signed checkpoints of our own log (C2SP tlog-checkpoint signed notes).
    CREATE TABLE audit_checkpoints (
        size INTEGER PRIMARY KEY,
        root BLOB NOT NULL,
        note BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL
    ) STRICT;
    """,
    # 3: audit witnessing: peers' checkpoints, cosignatures, alarms (issue 4).
    """
    CREATE TABLE audit_placeholder_3 (id INTEGER PRIMARY KEY) STRICT;
    """,
    # 4: notice lifecycle: approvals, acknowledgements, escalations, retention (issue 3).
    """
    CREATE TABLE lifecycle_placeholder_4 (id INTEGER PRIMARY KEY) STRICT;
    """,
)
