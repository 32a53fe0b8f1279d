"""Audit leaves: what happened, by whom, to which notice, never what the notice said.

Every event of DESIGN.md section 8 becomes one leaf of the node's Merkle log. A leaf is
encoded as canonical JSON (sorted keys, no spaces, ASCII only), so an outside auditor can read
it with any tool and recompute its hash (RFC 9162: SHA-256(0x00 || leaf)). Leaves carry ids,
codes, times and digests only; the fields are a closed set, and `reason` is a machine code or
an operator-facing sentence built from metadata, never from a notice's content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields

from gateway.errors import GatewayError

__all__ = ["ACTIONS", "AuditLeaf", "LeafError", "decode_leaf", "encode_leaf"]

# Every action a leaf may record. Adding one is a reviewed change: each must be metadata only.
ACTIONS = frozenset(
    {
        "node_init",  # a node was created (its keys and card)
        "sops_loaded",  # the SOP set the node started with, by digest
        "peer_added",  # a peer's card was trusted (digest of the card)
        "peer_revoked",  # a peer or one of its keys was revoked
        "notice_drafted",
        "notice_approved",
        "notice_dispatched",  # envelopes queued in the outbox, one leaf per recipient
        "envelope_delivered",  # a peer's signed receipt verified and stored
        "envelope_rejected_by_peer",  # a peer's signed rejection (outcome: its code)
        "envelope_expired",  # gave up delivering: the envelope expired
        "envelope_received",  # an envelope verified, decrypted and stored
        "envelope_refused",  # an incoming envelope refused (outcome: the rejection code)
        "notice_opened",  # a user decrypted a stored notice
        "notice_acknowledged",
        "notice_corrected",  # a received notice's fields replaced by its sender's correction
        "notice_withdrawn",  # a received notice withdrawn by its sender (payload hidden)
        "escalation",
        "retention_purge",  # a notice's data key destroyed (crypto-shredding)
        "user_login",
        "audit_alarm",  # a peer's checkpoints show two views of its log (outcome: the kind)
    }
)
_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{0,128}")
MAX_REASON = 300


class LeafError(GatewayError):
    """A stored audit leaf does not parse or breaks the leaf rules."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditLeaf:
    seq: int
    time_ms: int
    actor: str  # a local user, "system", or a peer node id
    action: str
    notice_id: str = ""
    message_id: str = ""  # hex
    peer: str = ""
    outcome: str = ""  # a machine code: "ok", a rejection code, a state
    digest: str = ""  # hex digest of the object the event concerns (header, receipt, card)
    reason: str = ""  # metadata only: e.g. which field paths a notice carried too many

    def __post_init__(self) -> None:
        if self.seq < 0 or self.time_ms < 0:
            raise LeafError("leaf seq and time must not be negative")
        if self.action not in ACTIONS:
            raise LeafError(f"unknown audit action {self.action!r}")
        for name in ("actor", "notice_id", "message_id", "peer", "outcome", "digest"):
            if not _ID.fullmatch(getattr(self, name)):
                raise LeafError(f"audit leaf field {name} is not an id or code")
        if len(self.reason) > MAX_REASON or not self.reason.isprintable():
            raise LeafError("audit leaf reason is too long or not printable")


_FIELDS = tuple(f.name for f in fields(AuditLeaf))
# One encoder for all leaves: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def encode_leaf(leaf: AuditLeaf) -> bytes:
    # A plain dict of the fields, not dataclasses.asdict: the same JSON without asdict's deep
    # copies, which made encoding the slowest step of `gateway audit verify`.
    return _ENCODER.encode({name: getattr(leaf, name) for name in _FIELDS}).encode()


def decode_leaf(data: bytes) -> AuditLeaf:
    try:
        fields = json.loads(data)
        leaf = AuditLeaf(**fields)
    except (ValueError, TypeError) as exc:
        raise LeafError("audit leaf does not parse") from exc
    if encode_leaf(leaf) != data:
        raise LeafError("audit leaf is not in canonical form")
    return leaf
