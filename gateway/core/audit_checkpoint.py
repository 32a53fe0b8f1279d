"""Audit checkpoints, witnessing and proofs on the wire: names, keys and formats (DESIGN.md 8).

A node signs checkpoints of its audit log as C2SP tlog-checkpoint notes, and cosigns its peers'
checkpoints as a witness (C2SP tlog-cosignature v1). Both use the node's Ed25519 audit key
(DESIGN.md section 3), under two key names:

    log origin and checkpoint key name   gateway.<node id>/audit
    witness (cosigner) key name          gateway.<node id>/witness

The origin is schema-less and names the log the way c2sp.org/tlog-checkpoint suggests; a peer
derives both names from the node id it already knows from the card, so no name travels
unauthenticated. One seed serving two purposes is safe here because the signed messages can
never collide: a checkpoint note's text starts with its origin line ("gateway."), a cosigned
message starts with "cosignature/v1\\n" (c2sp.org/tlog-cosignature); the cosignature key has
its own key id (type byte 0x04), so neither signature can pass for the other.

Consistency proofs travel as text, one base64 hash per line (an empty body for an empty proof):
readable with curl, trivially parsed, and canonical (`decode_proof` refuses anything else).
An inclusion proof for `gateway audit prove` is one JSON document holding the leaf, the proof
and the signed checkpoint it leads to, so `gateway audit prove --check` needs nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gateway.core import merkle
from gateway.core.audit import AuditLeaf, decode_leaf
from gateway.core.signed_note import (
    SIG_TYPE_COSIGNATURE_V1,
    Checkpoint,
    Cosigner,
    MalformedNote,
    NoteSignature,
    Signer,
    Verifier,
    b64decode_canonical,
    b64encode,
    open_checkpoint,
    sign_note,
)
from gateway.errors import GatewayError, Malformed

__all__ = [
    "INCLUSION_FORMAT",
    "MAX_PROOF_HASHES",
    "AuditFailure",
    "Progress",
    "WitnessStep",
    "compare_checkpoints",
    "cosignature_line",
    "decode_proof",
    "encode_proof",
    "inclusion_document",
    "log_origin",
    "log_signer",
    "log_verifier",
    "make_checkpoint",
    "open_inclusion_document",
    "open_log_checkpoint",
    "witness_cosigner",
    "witness_name",
    "witness_verifier",
]

INCLUSION_FORMAT = "gateway-audit-inclusion/v1"
# A consistency or inclusion proof over a tree of up to 2**64 leaves has at most 2 * 64 hashes.
MAX_PROOF_HASHES = 128
HASH_B64_CHARS = 44


class AuditFailure(GatewayError):
    """The audit log, a checkpoint, a cosignature or a proof does not check out.

    `index` is the first leaf found bad, `checkpoint` the size of the checkpoint found bad.
    """

    def __init__(
        self, message: str, *, index: int | None = None, checkpoint: int | None = None
    ) -> None:
        super().__init__(message)
        self.index = index
        self.checkpoint = checkpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far a long check has come (for progress lines on stderr)."""

    leaves: int
    total: int | None


def log_origin(node_id: str) -> str:
    return f"gateway.{node_id}/audit"


def witness_name(node_id: str) -> str:
    return f"gateway.{node_id}/witness"


def log_signer(node_id: str, seed: bytes) -> Signer:
    return Signer(name=log_origin(node_id), seed=seed)


def log_verifier(node_id: str, public_key: bytes) -> Verifier:
    return Verifier(name=log_origin(node_id), public_key=public_key)


def witness_cosigner(node_id: str, seed: bytes) -> Cosigner:
    return Cosigner(name=witness_name(node_id), seed=seed)


def witness_verifier(node_id: str, public_key: bytes) -> Verifier:
    return Verifier(
        name=witness_name(node_id), public_key=public_key, sig_type=SIG_TYPE_COSIGNATURE_V1
    )


def make_checkpoint(signer: Signer, size: int, root: bytes) -> bytes:
    """The signed checkpoint note of the log named by `signer` at (`size`, `root`)."""
    body = Checkpoint(origin=signer.name, size=size, root_hash=root)
    return sign_note(body.format(), [signer])


def open_log_checkpoint(note: bytes, log: Verifier) -> Checkpoint:
    """Verify `note` with the log key and check its origin is that log's; raise otherwise."""
    checkpoint, _ = open_checkpoint(note, log)
    if checkpoint.origin != log.name:
        raise MalformedNote(f"checkpoint origin {checkpoint.origin!r} is not {log.name!r}")
    return checkpoint


class WitnessStep(Enum):
    """What a witness does with a peer's new checkpoint, given the last one it holds."""

    FIRST = "first"  # nothing held yet: trust on first use, cosign
    SAME = "same"  # the same checkpoint again: nothing to do
    PROVE = "prove"  # larger: fetch and verify a consistency proof, then cosign
    FORK = "fork"  # same size, other root: two signed views of one log (alarm)
    ROLLBACK = "rollback"  # smaller than one the log signed before (alarm)


def compare_checkpoints(held: Checkpoint | None, new: Checkpoint) -> WitnessStep:
    if held is None:
        return WitnessStep.FIRST
    if new.size == held.size:
        return WitnessStep.SAME if new.root_hash == held.root_hash else WitnessStep.FORK
    return WitnessStep.PROVE if new.size > held.size else WitnessStep.ROLLBACK


# --- proofs on the wire --------------------------------------------------------------------


def encode_proof(hashes: list[bytes]) -> bytes:
    return "".join(b64encode(h) + "\n" for h in hashes).encode("ascii")


def decode_proof(body: bytes) -> list[bytes]:
    """Parse one base64 SHA-256 hash per line; refuse anything else."""
    if len(body) > MAX_PROOF_HASHES * (HASH_B64_CHARS + 1):
        raise Malformed(f"a proof has at most {MAX_PROOF_HASHES} hashes")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Malformed("a proof is ASCII text") from exc
    if text and not text.endswith("\n"):
        raise Malformed("a proof ends with a newline")
    hashes = [
        b64decode_canonical(f"proof line {i + 1}", line) for i, line in enumerate(text.splitlines())
    ]
    for i, h in enumerate(hashes):
        if len(h) != merkle.HASH_BYTES:
            raise Malformed(f"proof line {i + 1} is not a {merkle.HASH_BYTES}-byte hash")
    return hashes


# --- inclusion proofs for `gateway audit prove` ----------------------------------------------


def inclusion_document(
    *, index: int, leaf: bytes, proof: list[bytes], checkpoint: bytes, log: Verifier
) -> str:
    """A self-contained inclusion proof: leaf `index` is in the tree of the signed checkpoint."""
    return json.dumps(
        {
            "format": INCLUSION_FORMAT,
            "log_key": log.format(),
            "index": index,
            "leaf": leaf.decode("ascii"),
            "proof": [b64encode(h) for h in proof],
            "checkpoint": checkpoint.decode("utf-8"),
        },
        indent=2,
        ensure_ascii=False,
    )


def _field(doc: dict[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AuditFailure(f"inclusion proof: {name} is missing or not a {kind.__name__}")
    return value


def open_inclusion_document(
    text: str, trusted: Verifier | None = None
) -> tuple[AuditLeaf, Checkpoint, Verifier]:
    """Check an inclusion proof document; returns the leaf, the checkpoint and the key used.

    With `trusted`, the document's key must be that key; without, the key in the document is
    used and the caller must tell the reader to compare it with one obtained out of band.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise AuditFailure("inclusion proof is not JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != INCLUSION_FORMAT:
        raise AuditFailure(f"not a {INCLUSION_FORMAT} document")
    try:
        log = Verifier.parse(_field(doc, "log_key", str))
        if trusted is not None and log != trusted:
            raise AuditFailure(f"inclusion proof is for log key {log.format()}, not the one given")
        index = _field(doc, "index", int)
        leaf_bytes = _field(doc, "leaf", str).encode("ascii")
        leaf = decode_leaf(leaf_bytes)
        proof = [
            b64decode_canonical(f"proof[{i}]", h) for i, h in enumerate(_field(doc, "proof", list))
        ]
        checkpoint = open_log_checkpoint(_field(doc, "checkpoint", str).encode("utf-8"), log)
        if leaf.seq != index:
            raise AuditFailure(f"the leaf is entry {leaf.seq}, the proof is for index {index}")
        merkle.verify_inclusion(
            merkle.leaf_hash(leaf_bytes), index, checkpoint.size, proof, checkpoint.root_hash
        )
    except AuditFailure:
        raise
    except (GatewayError, UnicodeEncodeError, TypeError) as exc:
        raise AuditFailure(f"inclusion proof does not verify: {exc}") from exc
    return leaf, checkpoint, log


def cosignature_line(signature: NoteSignature) -> str:
    """The signature line (without its newline) that a cosigned checkpoint note carries."""
    return signature.line().rstrip("\n")
