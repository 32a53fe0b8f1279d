"""The boundary between protobuf messages and domain values.

Protobuf enums carry prefixed upper-case names (NOTICE_KIND_VICTIM_IDENTIFICATION); the domain
uses the short lower-case names officers write (victim_identification). These helpers convert
both ways from the enum descriptors, so a new enum value needs no code change here. Decoding
maps protobuf's DecodeError to our error tree at this one place.
"""

from __future__ import annotations

import functools
from typing import TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import DecodeError, Message

from gateway._pb.gateway.v1 import common_pb2
from gateway.errors import GatewayError

__all__ = [
    "decode",
    "enum_from_name",
    "enum_key",
    "enum_name",
    "enum_names",
    "kind_key",
    "kind_name",
    "kind_value",
]

M = TypeVar("M", bound=Message)


@functools.cache
def _prefix(enum: EnumTypeWrapper) -> str:
    # By convention (buf's ENUM_VALUE_PREFIX) every value starts with the UNSPECIFIED prefix.
    unspecified = next(k for k in enum.keys() if k.endswith("_UNSPECIFIED"))
    return unspecified[: -len("UNSPECIFIED")]


def enum_name(enum: EnumTypeWrapper, value: int) -> str:
    """NOTICE_KIND_VICTIM_IDENTIFICATION -> "victim_identification"; unknown -> ValueError."""
    return enum.Name(value)[len(_prefix(enum)) :].lower()


def enum_names(enum: EnumTypeWrapper) -> tuple[str, ...]:
    """Every short name of the enum except UNSPECIFIED, in declaration order."""
    prefix = _prefix(enum)
    return tuple(k[len(prefix) :].lower() for k in enum.keys() if not k.endswith("_UNSPECIFIED"))


def enum_key(enum: EnumTypeWrapper, name: str) -> str:
    """ "victim_identification" -> "NOTICE_KIND_VICTIM_IDENTIFICATION"; unknown -> KeyError.

    Protobuf message constructors accept these full names for enum fields.
    """
    return _keys(enum)[name]


@functools.cache
def _keys(enum: EnumTypeWrapper) -> dict[str, str]:
    prefix = _prefix(enum)
    return {k[len(prefix) :].lower(): k for k in enum.keys() if not k.endswith("_UNSPECIFIED")}


def enum_from_name(enum: EnumTypeWrapper, name: str) -> int:
    """ "victim_identification" -> NOTICE_KIND_VICTIM_IDENTIFICATION's number."""
    return enum.Value(enum_key(enum, name))


def kind_name(value: int) -> str:
    return enum_name(common_pb2.NoticeKind, value)


def kind_value(name: str) -> int:
    return enum_from_name(common_pb2.NoticeKind, name)


def kind_key(name: str) -> str:
    return enum_key(common_pb2.NoticeKind, name)


def decode(message_type: type[M], data: bytes, error: type[GatewayError], what: str) -> M:
    """Parse `data` as `message_type`, raising `error` (with `what` in the message) if it fails."""
    msg: M = message_type()
    try:
        msg.ParseFromString(data)
    except DecodeError as exc:
        raise error(f"{what} is not a valid protobuf message") from exc
    return msg
