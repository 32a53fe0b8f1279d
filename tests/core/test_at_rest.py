"""gateway.core.at_rest: data keys wrapped under the storage key, payloads under data keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import crypto
from gateway.core.at_rest import (
    AtRestError,
    new_data_key,
    open_payload,
    seal_payload,
    unwrap_key,
    wrap_key,
)
from gateway.errors import GatewayError

STORAGE_KEY = bytes(range(32))
OTHER_STORAGE_KEY = bytes(range(1, 33))
DATA_KEY = bytes(range(100, 132))
ROW = b"notice:42"
PAYLOAD = b"\x0a\x05a serialized notice"
OVERHEAD = crypto.AEAD_NONCE_BYTES + crypto.AEAD_TAG_BYTES


def test_data_key_round_trip() -> None:
    wrapped = wrap_key(STORAGE_KEY, DATA_KEY, ROW)
    assert len(wrapped) == len(DATA_KEY) + OVERHEAD
    assert DATA_KEY not in wrapped
    assert unwrap_key(STORAGE_KEY, wrapped, ROW) == DATA_KEY


def test_payload_round_trip() -> None:
    sealed = seal_payload(DATA_KEY, PAYLOAD, ROW)
    assert len(sealed) == len(PAYLOAD) + OVERHEAD
    assert PAYLOAD not in sealed
    assert open_payload(DATA_KEY, sealed, ROW) == PAYLOAD


def test_new_data_keys_are_fresh_32_byte_keys() -> None:
    keys = {new_data_key() for _ in range(8)}
    assert len(keys) == 8
    assert all(len(k) == crypto.AEAD_KEY_BYTES for k in keys)


def test_each_seal_uses_a_fresh_nonce() -> None:
    assert seal_payload(DATA_KEY, PAYLOAD, ROW) != seal_payload(DATA_KEY, PAYLOAD, ROW)
    assert wrap_key(STORAGE_KEY, DATA_KEY, ROW) != wrap_key(STORAGE_KEY, DATA_KEY, ROW)


def test_at_rest_error_is_a_gateway_error() -> None:
    assert issubclass(AtRestError, GatewayError)


def test_wrong_storage_key() -> None:
    wrapped = wrap_key(STORAGE_KEY, DATA_KEY, ROW)
    with pytest.raises(AtRestError, match="data key does not decrypt"):
        unwrap_key(OTHER_STORAGE_KEY, wrapped, ROW)


def test_wrong_data_key() -> None:
    sealed = seal_payload(DATA_KEY, PAYLOAD, ROW)
    with pytest.raises(AtRestError, match="stored payload does not decrypt"):
        open_payload(new_data_key(), sealed, ROW)


@pytest.mark.parametrize("context", [b"notice:43", b"notice:4", b"notice:420", b""])
def test_wrong_context(context: bytes) -> None:
    # A ciphertext or wrapped key copied onto another row does not open there.
    with pytest.raises(AtRestError):
        unwrap_key(STORAGE_KEY, wrap_key(STORAGE_KEY, DATA_KEY, ROW), context)
    with pytest.raises(AtRestError):
        open_payload(DATA_KEY, seal_payload(DATA_KEY, PAYLOAD, ROW), context)


def test_a_payload_does_not_open_as_a_wrapped_key_or_the_reverse() -> None:
    # Same key, same context: only the purpose labels in the associated data differ.
    key = DATA_KEY
    with pytest.raises(AtRestError):
        unwrap_key(key, seal_payload(key, DATA_KEY, ROW), ROW)
    with pytest.raises(AtRestError):
        open_payload(key, wrap_key(key, DATA_KEY, ROW), ROW)


def test_altered_bytes() -> None:
    for sealed, opener, key in (
        (wrap_key(STORAGE_KEY, DATA_KEY, ROW), unwrap_key, STORAGE_KEY),
        (seal_payload(DATA_KEY, PAYLOAD, ROW), open_payload, DATA_KEY),
    ):
        for index in range(len(sealed)):
            altered = bytearray(sealed)
            altered[index] ^= 0x01
            with pytest.raises(AtRestError):
                opener(key, bytes(altered), ROW)


@pytest.mark.parametrize("cut", [0, 1, crypto.AEAD_NONCE_BYTES, OVERHEAD - 1, OVERHEAD])
def test_truncated_bytes(cut: int) -> None:
    sealed = seal_payload(DATA_KEY, PAYLOAD, ROW)
    with pytest.raises(AtRestError):
        open_payload(DATA_KEY, sealed[:cut], ROW)
    with pytest.raises(AtRestError):
        open_payload(DATA_KEY, sealed + b"\0", ROW)


def test_crypto_shredding_needs_only_the_wrapped_key_gone() -> None:
    # Wrapped key and payload are independent: with the right data key the payload opens.
    data_key = new_data_key()
    wrapped = wrap_key(STORAGE_KEY, data_key, ROW)
    sealed = seal_payload(data_key, PAYLOAD, ROW)
    assert open_payload(unwrap_key(STORAGE_KEY, wrapped, ROW), sealed, ROW) == PAYLOAD


@settings(max_examples=100, deadline=None)
@given(
    payload=st.binary(max_size=4096),
    context=st.binary(max_size=64),
    storage_key=st.binary(min_size=32, max_size=32),
)
def test_round_trip_property(payload: bytes, context: bytes, storage_key: bytes) -> None:
    data_key = new_data_key()
    wrapped = wrap_key(storage_key, data_key, context)
    assert unwrap_key(storage_key, wrapped, context) == data_key
    assert open_payload(data_key, seal_payload(data_key, payload, context), context) == payload


@settings(max_examples=100, deadline=None)
@given(
    payload=st.binary(max_size=256),
    context=st.binary(max_size=16),
    other=st.binary(max_size=16),
    data=st.data(),
)
def test_any_change_is_refused_property(
    payload: bytes, context: bytes, other: bytes, data: st.DataObject
) -> None:
    sealed = seal_payload(DATA_KEY, payload, context)
    if other != context:
        with pytest.raises(AtRestError):
            open_payload(DATA_KEY, sealed, other)
    index = data.draw(st.integers(0, len(sealed) - 1))
    altered = bytearray(sealed)
    altered[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(AtRestError):
        open_payload(DATA_KEY, bytes(altered), context)
