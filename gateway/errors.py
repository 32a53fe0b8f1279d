"""Every error gateway raises, in one tree.

    GatewayError
    ├── ConfigError            bad config, SOP, notice or key file (CLI exit 2; says file and field)
    ├── StateError             an illegal state transition (names the state, event and notice)
    ├── NotAllowed             this person may not do that (approve own notice, approve twice,
    │                          send without the approvals the SOP requires)
    ├── NotFound               no such notice, message or peer
    ├── PeerError              what a peer sent is wrong (HTTP 4xx and a signed rejection)
    │   ├── Oversized          larger than the envelope size limit
    │   ├── Malformed          not a protobuf of the expected shape, or a bad field in it
    │   ├── UnsupportedSuite   a cryptographic suite we do not speak
    │   ├── UnknownSender      no peer key with that key id
    │   ├── RevokedKey         the key exists but has been revoked
    │   ├── BadSignature       the signature does not verify (tampered or forged)
    │   ├── NotForUs           a valid envelope addressed to another node
    │   ├── FromFuture         created further in the future than the allowed clock skew
    │   ├── Expired            past its expiry time
    │   ├── UnknownSop         an SOP id and version we do not hold
    │   ├── NotAParty          the sender is not a party to that SOP
    │   ├── BadStanza          our wrapped content key does not open
    │   ├── BadCommitment      the content key does not match the header's key commitment
    │   ├── BadCiphertext      the content does not decrypt and authenticate
    │   ├── MalformedPayload   the decrypted notice does not parse or is invalid
    │   ├── FieldsNotAllowed   the notice carries fields its SOP does not grant our role
    │   └── Replayed           a message id we already hold, with other content
    └── DeliveryError          we could not deliver (retried with backoff until expiry)
        └── BadReceipt         the peer's receipt or rejection does not verify or does not match

A PeerError's `code` is stable and machine-readable; it travels in the signed rejection. Its
message is for people and holds metadata only: never a victim's data.
"""

from __future__ import annotations

__all__ = [
    "BadCiphertext",
    "BadCommitment",
    "BadReceipt",
    "BadSignature",
    "BadStanza",
    "ConfigError",
    "DeliveryError",
    "Expired",
    "FieldsNotAllowed",
    "FromFuture",
    "GatewayError",
    "Malformed",
    "MalformedPayload",
    "NotAParty",
    "NotAllowed",
    "NotForUs",
    "NotFound",
    "Oversized",
    "PeerError",
    "Replayed",
    "RevokedKey",
    "StateError",
    "UnknownSender",
    "UnknownSop",
    "UnsupportedSuite",
]


class GatewayError(Exception):
    """Base of every error gateway raises on purpose."""


class ConfigError(GatewayError):
    """A config, SOP, notice or key file is wrong. The message says where and how to fix it."""


class StateError(GatewayError):
    """An event that the state machine does not allow in the current state."""


class NotAllowed(GatewayError):
    """The acting person may not do this (four-eyes rules, approvals still missing)."""


class NotFound(GatewayError):
    """No such notice, message or peer."""


class PeerError(GatewayError):
    """What a peer sent is wrong. Answered with HTTP `status` and a signed rejection."""

    code = "peer_error"
    status = 400
    # Set once the envelope's signature verified, so audit entries can name who sent it.
    sender: str = ""
    message_id: bytes = b""


class Oversized(PeerError):
    code = "oversized"
    status = 413


class Malformed(PeerError):
    code = "malformed"


class UnsupportedSuite(PeerError):
    code = "unsupported_suite"


class UnknownSender(PeerError):
    code = "unknown_sender"
    status = 403


class RevokedKey(PeerError):
    code = "revoked_key"
    status = 403


class BadSignature(PeerError):
    code = "bad_signature"
    status = 403


class NotForUs(PeerError):
    code = "not_for_us"
    status = 421  # Misdirected Request


class FromFuture(PeerError):
    code = "from_future"


class Expired(PeerError):
    code = "expired"
    status = 410


class UnknownSop(PeerError):
    code = "unknown_sop"
    status = 422


class NotAParty(PeerError):
    code = "not_a_party"
    status = 403


class BadStanza(PeerError):
    code = "bad_stanza"


class BadCommitment(PeerError):
    code = "bad_commitment"


class BadCiphertext(PeerError):
    code = "bad_ciphertext"


class MalformedPayload(PeerError):
    code = "malformed_payload"


class FieldsNotAllowed(PeerError):
    code = "fields_not_allowed"
    status = 422


class Replayed(PeerError):
    code = "replayed"
    status = 409


class DeliveryError(GatewayError):
    """We could not deliver an envelope; the delivery worker retries until it expires."""


class BadReceipt(DeliveryError):
    """A peer's receipt or rejection does not verify, or does not match what we sent."""
