"""gateway.core.signed_note against the C2SP and Go sumdb/note vectors, plus forgeries."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.signed_note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SIG_TYPE_COSIGNATURE_V1,
    Checkpoint,
    Cosigner,
    MalformedNote,
    NoteSignature,
    NoteSignatureError,
    Signer,
    UnverifiedNote,
    Verifier,
    cosignature_message,
    format_note,
    key_id,
    open_checkpoint,
    open_note,
    sign_note,
    verify_cosignature,
)
from gateway.errors import BadSignature, ConfigError, Malformed, Oversized, PeerError

LOG = Signer(name="gw.example/audit", seed=bytes(range(32)))
OTHER = Signer(name="gw.example/audit", seed=bytes(range(1, 33)))
WITNESS = Cosigner(name="witness.example/w1", seed=bytes(range(2, 34)))
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
CHECKPOINT = Checkpoint(origin="gw.example/audit", size=20852163, root_hash=ROOT)
TIME = 1_679_315_147


@pytest.fixture(scope="module")
def go(vectors_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (vectors_dir / "signed-note" / "golang-mod-note_test.json").read_text()
    )
    return data


@pytest.fixture(scope="module")
def example(vectors_dir: Path) -> tuple[Verifier, bytes]:
    vkey = (vectors_dir / "signed-note" / "example.vkey").read_text().strip()
    return Verifier.parse(vkey), (vectors_dir / "signed-note" / "example.note").read_bytes()


def _replace(note: bytes, old: bytes, new: bytes) -> bytes:
    assert old in note
    return note.replace(old, new, 1)


# --- Vectors -------------------------------------------------------------------------------


def test_c2sp_example_note_verifies(example: tuple[Verifier, bytes], vectors_dir: Path) -> None:
    verifier, note = example
    assert verifier.format() == (vectors_dir / "signed-note" / "example.vkey").read_text().strip()
    opened = open_note(note, [verifier])
    assert opened.text == "This is an example message.\n"
    assert opened.verified_by(verifier) is not None
    assert format_note(opened.text, opened.signatures) == note


def test_go_signing_reproduces_first_signature_line(go: dict[str, Any]) -> None:
    signer = Signer.parse(go["skey"])
    assert signer.format() == go["skey"]
    assert signer.verifier.format() == go["vkeys"][0]
    note = sign_note(go["text"], [signer])
    assert note == (go["text"] + "\n" + go["sig_lines"][0] + "\n").encode()
    assert NoteSignature.parse(go["sig_lines"][0]).line() == go["sig_lines"][0] + "\n"


def test_go_verifier_keys_parse_and_verify_both_lines(go: dict[str, Any]) -> None:
    peter, enoch = (Verifier.parse(k) for k in go["vkeys"])
    assert [peter.format(), enoch.format()] == go["vkeys"]
    note = (go["text"] + "\n" + "".join(line + "\n" for line in go["sig_lines"])).encode()
    opened = open_note(note, [peter, enoch])
    assert [v.verifier for v in opened.verified] == [peter, enoch]
    only_enoch = open_note(note, [enoch])
    assert [v.verifier for v in only_enoch.verified] == [enoch]
    assert [s.name for s in only_enoch.signatures] == ["PeterNeumann", "EnochRoot"]


# --- Named negative cases ------------------------------------------------------------------


def test_tampered_text(example: tuple[Verifier, bytes]) -> None:
    verifier, note = example
    with pytest.raises(NoteSignatureError):
        open_note(_replace(note, b"example", b"exempla"), [verifier])


def test_wrong_key(example: tuple[Verifier, bytes]) -> None:
    verifier, note = example
    impostor = Verifier(name=verifier.name, public_key=LOG.public_key)
    with pytest.raises(UnverifiedNote):
        open_note(note, [impostor])
    forged = NoteSignature(name=verifier.name, key_id=verifier.key_id, signature=bytes(64))
    with pytest.raises(NoteSignatureError):
        open_note(format_note("This is an example message.\n", [forged]), [verifier])


def test_wrong_key_id(example: tuple[Verifier, bytes], go: dict[str, Any]) -> None:
    verifier, note = example
    with pytest.raises(MalformedNote, match="key id does not match"):
        Verifier.parse(verifier.format().replace("+530d903a+", "+530d903b+"))
    with pytest.raises(MalformedNote, match="key id does not match"):
        Signer.parse(go["skey"].replace("+c74f20a3+", "+c74f20a4+"))
    line = note.split(b"\n")[2].decode()
    sig = NoteSignature.parse(line)
    moved = NoteSignature(name=sig.name, key_id=b"\x00\x00\x00\x00", signature=sig.signature)
    with pytest.raises(UnverifiedNote):
        open_note(format_note("This is an example message.\n", [moved]), [verifier])


@pytest.mark.parametrize(
    "b64",
    [
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM",
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQN=",
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72Ineya!M=",
        "Uw2Q Okn8",
        "",
        "AAAA",
    ],
    ids=["no-padding", "non-canonical", "bad-char", "space", "empty", "too-short"],
)
def test_bad_base64(example: tuple[Verifier, bytes], b64: str) -> None:
    verifier, _ = example
    note = f"This is an example message.\n\n\u2014 example.com/foo {b64}\n".encode()
    with pytest.raises(MalformedNote):
        open_note(note, [verifier])


def test_missing_final_newline(example: tuple[Verifier, bytes]) -> None:
    verifier, note = example
    with pytest.raises(MalformedNote):
        open_note(note[:-1], [verifier])
    with pytest.raises(MalformedNote, match="newline"):
        sign_note("no newline", [LOG])
    with pytest.raises(MalformedNote, match="newline"):
        LOG.sign("")


@pytest.mark.parametrize(
    ("note", "match"),
    [
        (b"text\n\xff\n\n\xe2\x80\x94 a AAAAAA==\n", "UTF-8"),
        (b"text\r\n\n\xe2\x80\x94 a AAAAAA==\n", "control"),
        (b"text\n\xe2\x80\x94 a AAAAAA==\n", "blank line"),
        (b"text\n\n", "no signature lines"),
        (b"text\n\n- a AAAAAA==\n", "em dash"),
        (b"text\n\n\xe2\x80\x94 a+b AAAAAA==\n", "key name"),
        (b"text\n\n\xe2\x80\x94  AAAAAA==\n", "key name"),
    ],
    ids=[
        "not-utf8",
        "carriage-return",
        "no-blank-line",
        "no-signatures",
        "hyphen",
        "plus",
        "empty",
    ],
)
def test_malformed_notes(note: bytes, match: str) -> None:
    with pytest.raises(MalformedNote, match=match):
        open_note(note, [LOG.verifier])


def test_duplicate_signatures_are_rejected() -> None:
    line = LOG.sign("hello\n")
    with pytest.raises(MalformedNote, match="two signatures"):
        open_note(format_note("hello\n", [line, line]), [LOG.verifier])
    with pytest.raises(MalformedNote, match="twice"):
        sign_note("hello\n", [LOG, LOG])
    assert open_note(sign_note("hello\n", [LOG]), [LOG.verifier, LOG.verifier]).verified


def test_duplicate_unknown_signatures_are_ignored() -> None:
    stranger = Signer(name="stranger", seed=bytes(32)).sign("hello\n")
    note = format_note("hello\n", [stranger, stranger, LOG.sign("hello\n")])
    assert len(open_note(note, [LOG.verifier]).signatures) == 3


def test_size_limits() -> None:
    with pytest.raises(Oversized):
        open_note(b"x" * (MAX_NOTE_BYTES + 1), [LOG.verifier])
    with pytest.raises(Oversized):
        sign_note("x" * MAX_NOTE_BYTES + "\n", [LOG])
    sig = LOG.sign("hello\n")
    with pytest.raises(MalformedNote, match="1 to 100"):
        format_note("hello\n", [sig] * (MAX_SIGNATURES + 1))
    note = b"hello\n\n" + sig.line().encode() * (MAX_SIGNATURES + 1)
    with pytest.raises(MalformedNote, match="more than 100"):
        open_note(note, [LOG.verifier])
    with pytest.raises(MalformedNote):
        format_note("hello\n", [])


def test_key_validation() -> None:
    with pytest.raises(MalformedNote):
        Verifier(name="has space", public_key=LOG.public_key)
    with pytest.raises(MalformedNote):
        Verifier(name="", public_key=LOG.public_key)
    with pytest.raises(MalformedNote):
        Verifier(name="n", public_key=b"short")
    with pytest.raises(MalformedNote, match="unsupported"):
        Verifier(name="n", public_key=LOG.public_key, sig_type=0x02)
    raw = base64.b64encode(b"\x02" + LOG.public_key).decode()
    with pytest.raises(MalformedNote, match="unsupported"):
        Verifier.parse(f"n+{key_id('n', 2, LOG.public_key).hex()}+{raw}")
    with pytest.raises(MalformedNote):
        Verifier.parse("no-plus-signs")
    with pytest.raises(MalformedNote):
        Signer.parse(LOG.verifier.format())
    with pytest.raises(MalformedNote):
        Signer.parse("PRIVATE+KEY+" + WITNESS.verifier.format())
    with pytest.raises(MalformedNote):
        Signer(name="n", seed=b"short")
    assert "seed" not in repr(LOG)


def test_errors_fit_the_tree() -> None:
    assert issubclass(MalformedNote, Malformed)
    assert issubclass(NoteSignatureError, BadSignature)
    assert issubclass(UnverifiedNote, PeerError)


# --- Checkpoints and cosignatures ----------------------------------------------------------


def test_checkpoint_spec_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (
        "example.com/behind-the-sofa",
        20852163,
        ROOT,
    )
    assert checkpoint.format() == text
    with_ext = Checkpoint.parse(text + "ext one\next two\n")
    assert with_ext.extensions == ("ext one", "ext two")
    assert with_ext.format() == text + "ext one\next two\n"


@pytest.mark.parametrize(
    "text",
    [
        "o\n007\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n\u0661\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
    ],
    ids=[
        "leading-zero",
        "negative",
        "plus-sign",
        "arabic-digit",
        "over-uint64",
        "no-root",
        "no-final-newline",
        "empty-origin",
        "non-canonical-root",
        "short-root",
        "empty-extension",
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(MalformedNote):
        Checkpoint.parse(text)


def test_checkpoint_forgeries_are_rejected() -> None:
    note = sign_note(CHECKPOINT.format(), [LOG])
    checkpoint, _ = open_checkpoint(note, LOG.verifier)
    assert checkpoint == CHECKPOINT
    with pytest.raises(UnverifiedNote):
        open_checkpoint(sign_note(CHECKPOINT.format(), [OTHER]), LOG.verifier)
    with pytest.raises(NoteSignatureError):
        open_checkpoint(_replace(note, b"\n20852163\n", b"\n20852164\n"), LOG.verifier)
    with pytest.raises(NoteSignatureError):
        open_checkpoint(_replace(note, b"CsUYapGG", b"CsUYapGH"), LOG.verifier)
    witnessed_only = format_note(CHECKPOINT.format(), [WITNESS.cosign(CHECKPOINT, TIME)])
    with pytest.raises(UnverifiedNote, match="log key"):
        open_checkpoint(witnessed_only, LOG.verifier, [WITNESS.verifier])
    with pytest.raises(ConfigError):
        open_checkpoint(note, WITNESS.verifier)


def test_witness_flow() -> None:
    note = sign_note(CHECKPOINT.format(), [LOG])
    checkpoint, opened = open_checkpoint(note, LOG.verifier)
    cosignature = WITNESS.cosign(checkpoint, TIME)
    assert verify_cosignature(checkpoint, cosignature, WITNESS.verifier) == TIME
    cosigned = format_note(opened.text, [*opened.signatures, cosignature])
    _, seen = open_checkpoint(cosigned, LOG.verifier, [WITNESS.verifier])
    assert seen.verified_by(LOG.verifier) is not None
    witnessed = seen.verified_by(WITNESS.verifier)
    assert witnessed is not None and witnessed.timestamp == TIME
    assert open_checkpoint(cosigned, LOG.verifier)[0] == CHECKPOINT


def test_cosignature_format() -> None:
    assert cosignature_message(CHECKPOINT.format(), TIME) == (
        b"cosignature/v1\ntime 1679315147\ngw.example/audit\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    cosignature = WITNESS.cosign(CHECKPOINT, TIME)
    assert cosignature.signature[:8] == TIME.to_bytes(8, "big")
    assert len(cosignature.signature) == 8 + 64
    assert WITNESS.key_id == key_id(WITNESS.name, SIG_TYPE_COSIGNATURE_V1, WITNESS.public_key)
    assert WITNESS.verifier.sig_type == SIG_TYPE_COSIGNATURE_V1 == 0x04
    as_note_key = Signer(name=WITNESS.name, seed=WITNESS.seed)
    assert as_note_key.key_id != WITNESS.key_id
    assert Verifier.parse(WITNESS.verifier.format()) == WITNESS.verifier
    with pytest.raises(MalformedNote):
        WITNESS.cosign(CHECKPOINT, -1)
    with pytest.raises(MalformedNote):
        WITNESS.cosign(CHECKPOINT, 2**63)


def test_cosignature_forgeries_are_rejected() -> None:
    cosignature = WITNESS.cosign(CHECKPOINT, TIME)
    impostor = Cosigner(name=WITNESS.name, seed=bytes(32)).verifier
    with pytest.raises(NoteSignatureError):
        verify_cosignature(CHECKPOINT, cosignature, impostor)
    for forged in (
        Checkpoint(origin=CHECKPOINT.origin, size=CHECKPOINT.size + 1, root_hash=ROOT),
        Checkpoint(origin=CHECKPOINT.origin, size=CHECKPOINT.size, root_hash=bytes(32)),
        Checkpoint(origin="gw.example/other", size=CHECKPOINT.size, root_hash=ROOT),
    ):
        with pytest.raises(NoteSignatureError):
            verify_cosignature(forged, cosignature, WITNESS.verifier)
    later = (TIME + 1).to_bytes(8, "big") + cosignature.signature[8:]
    moved = NoteSignature(name=WITNESS.name, key_id=WITNESS.key_id, signature=later)
    with pytest.raises(NoteSignatureError):
        verify_cosignature(CHECKPOINT, moved, WITNESS.verifier)
    too_late = (2**63).to_bytes(8, "big") + cosignature.signature[8:]
    bad_time = NoteSignature(name=WITNESS.name, key_id=WITNESS.key_id, signature=too_late)
    with pytest.raises(NoteSignatureError, match="timestamp"):
        verify_cosignature(CHECKPOINT, bad_time, WITNESS.verifier)
    with pytest.raises(NoteSignatureError, match="not"):
        verify_cosignature(CHECKPOINT, LOG.sign(CHECKPOINT.format()), WITNESS.verifier)
    with pytest.raises(ConfigError):
        verify_cosignature(CHECKPOINT, cosignature, LOG.verifier)
    note_sig = NoteSignature(
        name=WITNESS.name, key_id=WITNESS.key_id, signature=LOG.sign(CHECKPOINT.format()).signature
    )
    with pytest.raises(NoteSignatureError, match="length"):
        verify_cosignature(CHECKPOINT, note_sig, WITNESS.verifier)


# --- Properties ----------------------------------------------------------------------------

names = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Z"), exclude_characters="+"
    ),
    min_size=1,
    max_size=24,
).filter(lambda s: not any(c.isspace() for c in s))
line_chars = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
texts = st.text(alphabet=st.one_of(line_chars, st.just("\n")), max_size=200).map(lambda t: t + "\n")
seeds = st.binary(min_size=32, max_size=32)
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None)


@PROPERTY_SETTINGS
@given(
    text=texts,
    keys=st.lists(st.tuples(names, seeds), min_size=1, max_size=3, unique_by=lambda k: k[0]),
)
def test_sign_open_round_trip(text: str, keys: list[tuple[str, bytes]]) -> None:
    signers = [Signer(name=name, seed=seed) for name, seed in keys]
    verifiers = [Verifier.parse(s.verifier.format()) for s in signers]
    assert [Signer.parse(s.format()) for s in signers] == signers
    note = sign_note(text, signers)
    opened = open_note(note, verifiers)
    assert opened.text == text
    assert [v.verifier for v in opened.verified] == verifiers
    assert format_note(opened.text, opened.signatures) == note


@PROPERTY_SETTINGS
@given(text=texts, seed=seeds, data=st.data())
def test_any_changed_text_byte_is_rejected(text: str, seed: bytes, data: st.DataObject) -> None:
    signer = Signer(name="p", seed=seed)
    note = bytearray(sign_note(text, [signer]))
    i = data.draw(st.integers(0, len(text.encode()) - 1))
    note[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises((MalformedNote, NoteSignatureError, UnverifiedNote)):
        open_note(bytes(note), [signer.verifier])


@PROPERTY_SETTINGS
@given(
    origin=st.text(alphabet=line_chars, min_size=1, max_size=40),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(alphabet=line_chars, min_size=1, max_size=20), max_size=3),
    timestamp=st.integers(0, 2**63 - 1),
    seed=seeds,
)
def test_checkpoint_and_cosignature_round_trip(
    origin: str, size: int, root: bytes, extensions: list[str], timestamp: int, seed: bytes
) -> None:
    checkpoint = Checkpoint(origin=origin, size=size, root_hash=root, extensions=tuple(extensions))
    assert Checkpoint.parse(checkpoint.format()) == checkpoint
    log = Signer(name="log", seed=seed)
    witness = Cosigner(name="witness", seed=seed[::-1])
    cosignature = witness.cosign(checkpoint, timestamp)
    note = format_note(checkpoint.format(), [log.sign(checkpoint.format()), cosignature])
    opened_checkpoint, opened = open_checkpoint(note, log.verifier, [witness.verifier])
    assert opened_checkpoint == checkpoint
    witnessed = opened.verified_by(witness.verifier)
    assert witnessed is not None and witnessed.timestamp == timestamp
    assert verify_cosignature(checkpoint, cosignature, witness.verifier) == timestamp
