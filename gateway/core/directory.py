"""The directory: the peers this node trusts, with their keys, as an immutable snapshot.

The store loads a fresh snapshot whenever the peer tables change (an operator may add or revoke
a peer from another process); lookups on the receive path are dictionary reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.core.envelope import RecipientKey, SenderKeys
from gateway.errors import NotFound, RevokedKey, UnknownSender

__all__ = ["Directory", "PeerKey", "PeerRecord"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerKey:
    key_id: bytes
    node_id: str
    purpose: str  # signing, encryption or audit
    public_key: bytes
    revoked: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerRecord:
    node_id: str
    country: str
    name: str
    endpoint: str
    fingerprint: str
    revoked: bool
    keys: tuple[PeerKey, ...]

    def current(self, purpose: str) -> PeerKey | None:
        """The newest unrevoked key for `purpose` (keys are listed oldest first)."""
        live = [k for k in self.keys if k.purpose == purpose and not k.revoked]
        return live[-1] if live else None


@dataclass(frozen=True, slots=True)
class Directory:
    peers: tuple[PeerRecord, ...]
    _by_node: dict[str, PeerRecord] = field(init=False, repr=False)
    _by_key: dict[bytes, PeerKey] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_node", {p.node_id: p for p in self.peers})
        object.__setattr__(self, "_by_key", {k.key_id: k for p in self.peers for k in p.keys})

    @classmethod
    def of(cls, peers: Iterable[PeerRecord]) -> Directory:
        return cls(tuple(sorted(peers, key=lambda p: p.node_id)))

    def peer(self, node_id: str) -> PeerRecord:
        try:
            return self._by_node[node_id]
        except KeyError:
            raise NotFound(f"no peer {node_id!r} in the directory") from None

    def get(self, node_id: str) -> PeerRecord | None:
        return self._by_node.get(node_id)

    def sender_for_key(self, key_id: bytes) -> SenderKeys:
        """Find the peer whose signing key has `key_id` (envelope.Directory protocol)."""
        key = self._by_key.get(key_id)
        if key is None or key.purpose != "signing":
            # The id is unauthenticated input: show a bounded prefix of it, never all of it.
            shown = key_id[:16].hex() + ("..." if len(key_id) > 16 else "")
            raise UnknownSender(f"no peer signing key with id {shown or '(none)'}")
        peer = self._by_node[key.node_id]
        if key.revoked or peer.revoked:
            raise RevokedKey(f"signing key {key_id.hex()} of {peer.node_id} has been revoked")
        return SenderKeys(node_id=peer.node_id, signing_key=key.public_key)

    def signing_key(self, node_id: str, key_id: bytes) -> bytes:
        """The public signing key `key_id` of `node_id`, revoked or not (to check receipts)."""
        key = self._by_key.get(key_id)
        if key is None or key.node_id != node_id or key.purpose != "signing":
            raise UnknownSender(f"{node_id} has no signing key {key_id.hex()}")
        return key.public_key

    def recipient_key(self, node_id: str) -> RecipientKey:
        peer = self.peer(node_id)
        key = peer.current("encryption")
        if peer.revoked or key is None:
            raise NotFound(f"peer {node_id} is revoked or has no encryption key")
        return RecipientKey(node_id=node_id, encryption_key=key.public_key)

    def live(self) -> tuple[PeerRecord, ...]:
        return tuple(p for p in self.peers if not p.revoked)
