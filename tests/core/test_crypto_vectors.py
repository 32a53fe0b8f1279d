"""The primitive wrappers of gateway.core.crypto against Wycheproof, plus round-trip properties.

Vectors: ../shared/vectors/wycheproof (C2SP/wycheproof testvectors_v1), one test per tcId, so a
failure names its vector. "valid" must pass, "invalid" must fail. "acceptable" marks inputs a
library may take or refuse; where we know what libsodium (through PyNaCl) does, we pin it per
flag, so that a change of library or wrapper behaviour shows up here as a named vector:

- Ed25519 SmallOrderPublicKey: rejected. libsodium refuses public keys in the torsion subgroup
  (under such a key one signature can verify for many messages).
- Ed25519 MixedOrderPublicKey: accepted. libsodium checks for small order and canonical
  encoding, not for membership of the prime-order subgroup; these signatures satisfy the
  verification equation, and the one that does not (tcId 210, "invalid") is rejected.
- X25519 with an all-zero shared secret (LowOrderPublic, ZeroSharedSecret): x25519() raises
  CryptoFailure and never returns the zero secret (libsodium's crypto_scalarmult fails on it,
  RFC 7748 section 6.1). Every other "acceptable" X25519 vector (Twist, NonCanonicalPublic,
  SmallPublicKey with a non-zero result, ...) must give exactly Wycheproof's shared secret:
  accepting a point is fine, computing a wrong result is not.
- XChaCha20-Poly1305 has no "acceptable" vectors. Vectors with a nonce that is not 24 bytes are
  "invalid": decryption raises CryptoFailure, encryption raises CryptoFailure or the
  TypeError/ValueError that PyNaCl uses for a wrong-sized argument.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core import crypto
from gateway.core.crypto import CryptoFailure
from tests.conftest import VECTORS_DIR

WYCHEPROOF = "wycheproof"
ED25519_FILE = "ed25519_test.json"
X25519_FILE = "x25519_test.json"
AEAD_FILE = "xchacha20_poly1305_test.json"

Vector = dict[str, Any]

# What our wrapper does with Ed25519 vectors marked "acceptable", by flag: True = verifies.
ED25519_ACCEPTABLE: dict[str, bool] = {
    "SmallOrderPublicKey": False,
    "MixedOrderPublicKey": True,
}

# Exceptions a wrapper may raise for an argument of a size the primitive does not take.
BAD_SIZE_ERRORS = (CryptoFailure, ValueError, TypeError)


# --- loading ---------------------------------------------------------------------------------


@functools.cache
def _load(path: Path) -> dict[int, Vector]:
    """Every test of a Wycheproof file by tcId, each merged with its group's parameters."""
    doc = json.loads(path.read_text())
    cases: dict[int, Vector] = {}
    for group in doc["testGroups"]:
        params = {k: v for k, v in group.items() if k != "tests"}
        for test in group["tests"]:
            assert test["tcId"] not in cases, f"{path.name}: duplicate tcId {test['tcId']}"
            cases[test["tcId"]] = {**test, "group": params}
    assert len(cases) == doc["numberOfTests"], f"{path.name}: numberOfTests does not match"
    return cases


def _tc_ids(name: str) -> list[Any]:
    """The tcIds to parametrize with, read at collection time.

    If the vectors are missing, one placeholder case remains so that the test still runs and the
    `vectors_dir` fixture fails it (an empty parameter list would be a silent skip).
    """
    path = VECTORS_DIR / WYCHEPROOF / name
    if not path.is_file():
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(tc_id, id=f"tc{tc_id}") for tc_id in sorted(_load(path))]


def _case(vectors_dir: Path, name: str, tc_id: int | None) -> Vector:
    cases = _load(vectors_dir / WYCHEPROOF / name)
    assert tc_id is not None, f"{name} appeared after collection; rerun"
    return cases[tc_id]


def _outcome(fn: Callable[[], object]) -> bool:
    """True if fn returns, False if it raises CryptoFailure; anything else propagates."""
    try:
        fn()
    except CryptoFailure:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "minimum"), [(ED25519_FILE, 200), (X25519_FILE, 500), (AEAD_FILE, 300)]
)
def test_vector_files_are_complete(vectors_dir: Path, name: str, minimum: int) -> None:
    cases = _load(vectors_dir / WYCHEPROOF / name)
    assert len(cases) >= minimum
    assert {c["result"] for c in cases.values()} <= {"valid", "invalid", "acceptable"}


# --- Ed25519 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tc_id", _tc_ids(ED25519_FILE))
def test_ed25519_wycheproof(vectors_dir: Path, tc_id: int | None) -> None:
    case = _case(vectors_dir, ED25519_FILE, tc_id)
    public_key = bytes.fromhex(case["group"]["publicKey"]["pk"])
    message, signature = bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])
    verified = _outcome(lambda: crypto.ed25519_verify(public_key, message, signature))

    context = f"tcId {case['tcId']} {case['flags']} {case['comment']!r}"
    if case["result"] == "valid":
        assert verified, f"valid signature rejected: {context}"
    elif case["result"] == "invalid":
        assert not verified, f"invalid signature accepted: {context}"
    else:
        known = {ED25519_ACCEPTABLE[f] for f in case["flags"] if f in ED25519_ACCEPTABLE}
        assert len(known) <= 1, f"flags disagree on the expected outcome: {context}"
        if known:
            (expected,) = known
            assert verified == expected, (
                f"acceptable vector {'rejected' if expected else 'accepted'}, "
                f"libsodium behaviour changed: {context}"
            )


# --- X25519 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tc_id", _tc_ids(X25519_FILE))
def test_x25519_wycheproof(vectors_dir: Path, tc_id: int | None) -> None:
    case = _case(vectors_dir, X25519_FILE, tc_id)
    private_key, public_key = bytes.fromhex(case["private"]), bytes.fromhex(case["public"])
    expected = bytes.fromhex(case["shared"])
    context = f"tcId {case['tcId']} {case['flags']} {case['comment']!r}"

    if expected == bytes(len(expected)):
        # Only "acceptable" low-order points give a zero secret; the wrapper must refuse them.
        assert case["result"] == "acceptable", context
        with pytest.raises(CryptoFailure):
            crypto.x25519(private_key, public_key)
    elif case["result"] in ("valid", "acceptable"):
        assert crypto.x25519(private_key, public_key) == expected, context
    else:
        with pytest.raises(CryptoFailure):
            crypto.x25519(private_key, public_key)


# --- XChaCha20-Poly1305 ----------------------------------------------------------------------


@pytest.mark.parametrize("tc_id", _tc_ids(AEAD_FILE))
def test_xchacha20_poly1305_wycheproof(vectors_dir: Path, tc_id: int | None) -> None:
    case = _case(vectors_dir, AEAD_FILE, tc_id)
    key, nonce, aad, message, ct, tag = (
        bytes.fromhex(case[k]) for k in ("key", "iv", "aad", "msg", "ct", "tag")
    )
    context = f"tcId {case['tcId']} {case['flags']} {case['comment']!r}"
    assert case["result"] in ("valid", "invalid"), f"unexpected result: {context}"

    if case["result"] == "valid":
        assert crypto.aead_encrypt(key, nonce, message, aad) == ct + tag, context
        assert crypto.aead_decrypt(key, nonce, ct + tag, aad) == message, context
        return

    with pytest.raises(CryptoFailure):
        crypto.aead_decrypt(key, nonce, ct + tag, aad)
    if len(key) != crypto.AEAD_KEY_BYTES or len(nonce) != crypto.AEAD_NONCE_BYTES:
        with pytest.raises(BAD_SIZE_ERRORS):
            crypto.aead_encrypt(key, nonce, message, aad)
    else:
        assert crypto.aead_encrypt(key, nonce, message, aad) != ct + tag, context


# --- properties ------------------------------------------------------------------------------

keys_32 = st.binary(min_size=32, max_size=32)
messages = st.binary(max_size=256)


def _flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _flipped(draw: st.DrawFn, data: bytes) -> bytes:
    bit = draw(st.integers(min_value=0, max_value=8 * len(data) - 1))
    return _flip_bit(data, bit)


def _changed(draw: st.DrawFn, data: bytes, *, fixed_size: bool) -> bytes:
    """A value that differs from data: one bit flipped, or (if sizes may vary) cut or extended."""
    kinds = ["flip"] if data else []
    if not fixed_size:
        kinds += ["extend"] + (["truncate"] if data else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "flip":
        return _flipped(draw, data)
    if kind == "extend":
        return data + draw(st.binary(min_size=1, max_size=16))
    return data[: draw(st.integers(min_value=0, max_value=len(data) - 1))]


@given(seed=keys_32, message=messages, data=st.data())
def test_sign_verify_round_trip_and_bit_flips(seed: bytes, message: bytes, data: Any) -> None:
    public_key = crypto.ed25519_public_key(seed)
    signature = crypto.ed25519_sign(seed, message)
    assert len(signature) == crypto.ED25519_SIGNATURE_BYTES
    crypto.ed25519_verify(public_key, message, signature)

    with pytest.raises(CryptoFailure):
        crypto.ed25519_verify(public_key, message, _flipped(data.draw, signature))
    if message:
        with pytest.raises(CryptoFailure):
            crypto.ed25519_verify(public_key, _flipped(data.draw, message), signature)


@given(private_key=keys_32, message=messages, data=st.data())
def test_seal_unseal_round_trip_and_bit_flips(
    private_key: bytes, message: bytes, data: Any
) -> None:
    sealed = crypto.seal_to(crypto.x25519_public_key(private_key), message)
    assert len(sealed) == 32 + 16 + len(message)
    assert crypto.unseal(private_key, sealed) == message

    with pytest.raises(CryptoFailure):
        crypto.unseal(private_key, _changed(data.draw, sealed, fixed_size=False))
    other = data.draw(keys_32.filter(lambda k: k != private_key), label="other private key")
    with pytest.raises(CryptoFailure):
        crypto.unseal(other, sealed)


def test_seal_to_a_low_order_key_is_refused() -> None:
    # A peer card could carry one; sealing must fail as a refused key, not a library error.
    with pytest.raises(CryptoFailure):
        crypto.seal_to(bytes(32), bytes(crypto.KEY_BYTES))


@given(
    key=keys_32,
    nonce=st.binary(min_size=crypto.AEAD_NONCE_BYTES, max_size=crypto.AEAD_NONCE_BYTES),
    plaintext=messages,
    aad=st.binary(max_size=64),
    target=st.sampled_from(["key", "nonce", "ciphertext", "aad"]),
    data=st.data(),
)
def test_aead_round_trip_and_any_change_fails(
    key: bytes, nonce: bytes, plaintext: bytes, aad: bytes, target: str, data: Any
) -> None:
    ciphertext = crypto.aead_encrypt(key, nonce, plaintext, aad)
    assert len(ciphertext) == len(plaintext) + crypto.AEAD_TAG_BYTES
    assert crypto.aead_decrypt(key, nonce, ciphertext, aad) == plaintext

    args = {"key": key, "nonce": nonce, "ciphertext": ciphertext, "aad": aad}
    args[target] = _changed(data.draw, args[target], fixed_size=target in ("key", "nonce"))
    with pytest.raises(CryptoFailure):
        crypto.aead_decrypt(args["key"], args["nonce"], args["ciphertext"], args["aad"])
