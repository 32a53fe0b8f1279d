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
    # 3: audit witnessing: cosignatures of our checkpoints, peers' checkpoints, alarms.
    """
    -- Witnesses' cosignatures of our own checkpoints (C2SP tlog-cosignature signature lines).
    CREATE TABLE audit_cosignatures (
        size INTEGER NOT NULL,
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (size, witness)
    ) STRICT;

    -- Peers' signed checkpoints we verified, from their receipts and from witnessing rounds.
    CREATE TABLE audit_peer_checkpoints (
        peer TEXT NOT NULL,
        size INTEGER NOT NULL,
        root BLOB NOT NULL,
        note BLOB NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('receipt', 'witness')),
        received_at_ms INTEGER NOT NULL,
        -- set once shown consistent with the peer's witnessed log
        checked_at_ms INTEGER,
        -- set once we cosigned it
        cosigned_at_ms INTEGER,
        PRIMARY KEY (peer, size)
    ) STRICT;

    -- Per peer, the latest checkpoint we verified as consistent with all before it.
    CREATE TABLE audit_witness (
        peer TEXT PRIMARY KEY,
        size INTEGER,
        root BLOB,
        note BLOB,
        verified_at_ms INTEGER,
        last_round_ms INTEGER NOT NULL,
        last_error TEXT
    ) STRICT;

    -- A peer showed two views of its log: both signed checkpoints are kept as evidence.
    CREATE TABLE audit_alarms (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('fork', 'rollback', 'inconsistent')),
        raised_at_ms INTEGER NOT NULL,
        held_note BLOB NOT NULL,
        new_note BLOB NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    """,
    # 4: notice lifecycle: approvals, recipients' states, escalations, retention (issue 3).
    # State names are those of gateway/core/lifecycle.py; every column holds metadata only.
    """
    ALTER TABLE notices ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notices ADD COLUMN related_notice_id TEXT;
    ALTER TABLE notices ADD COLUMN plan TEXT;
    ALTER TABLE notices ADD COLUMN escalate_to TEXT NOT NULL DEFAULT '';
    ALTER TABLE notices ADD COLUMN dispatch_deadline_ms INTEGER;
    ALTER TABLE notices ADD COLUMN ack_within_ms INTEGER;
    ALTER TABLE notices ADD COLUMN dispatched_at_ms INTEGER;
    ALTER TABLE notices ADD COLUMN retention_until_ms INTEGER;
    CREATE INDEX notices_state ON notices (state, dispatch_deadline_ms);
    CREATE INDEX notices_retention ON notices (retention_until_ms);

    -- Who approved which notice: four-eyes, one row per approver.
    CREATE TABLE approvals (
        notice_id TEXT NOT NULL REFERENCES notices (notice_id),
        approver TEXT NOT NULL,
        approved_at_ms INTEGER NOT NULL,
        PRIMARY KEY (notice_id, approver)
    ) STRICT;

    -- Each recipient of a notice we dispatched, in its SOP state (the outbox keeps delivery).
    CREATE TABLE recipients (
        notice_id TEXT NOT NULL REFERENCES notices (notice_id),
        peer TEXT NOT NULL,
        roles TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('queued', 'delivered', 'acknowledged', 'overdue', 'expired', 'rejected')),
        ack_deadline_ms INTEGER,
        acknowledged_at_ms INTEGER,
        ack_notice_id TEXT,
        PRIMARY KEY (notice_id, peer)
    ) STRICT;
    CREATE INDEX recipients_deadline ON recipients (state, ack_deadline_ms);
    INSERT INTO recipients (notice_id, peer, roles, state)
        SELECT notice_id, peer, roles, state FROM outbox;

    -- A passed SOP deadline, raised once: `dispatch` (peer '') or `acknowledge` (per peer).
    CREATE TABLE escalations (
        id INTEGER PRIMARY KEY,
        notice_id TEXT NOT NULL REFERENCES notices (notice_id),
        peer TEXT NOT NULL,
        deadline TEXT NOT NULL CHECK (deadline IN ('dispatch', 'acknowledge')),
        due_at_ms INTEGER NOT NULL,
        raised_at_ms INTEGER NOT NULL,
        escalate_to TEXT NOT NULL,
        UNIQUE (notice_id, peer, deadline)
    ) STRICT;

    -- What became of a notice we received; a correction leaves its time, a withdrawal its state.
    ALTER TABLE inbox ADD COLUMN state TEXT NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'acknowledged', 'withdrawn'));
    ALTER TABLE inbox ADD COLUMN corrected_at_ms INTEGER;
    ALTER TABLE inbox ADD COLUMN retention_until_ms INTEGER;
    CREATE INDEX inbox_notice ON inbox (sender, notice_id);
    CREATE INDEX inbox_retention ON inbox (retention_until_ms);
    """,
)
