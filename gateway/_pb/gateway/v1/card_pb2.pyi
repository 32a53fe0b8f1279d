from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class NodeCard(_message.Message):
    __slots__ = ("node_id", "country", "name", "endpoint", "signing_key", "encryption_key", "audit_key", "valid_from_ms", "valid_until_ms")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_FIELD_NUMBER: _ClassVar[int]
    AUDIT_KEY_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_MS_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    country: str
    name: str
    endpoint: str
    signing_key: bytes
    encryption_key: bytes
    audit_key: bytes
    valid_from_ms: int
    valid_until_ms: int
    def __init__(self, node_id: _Optional[str] = ..., country: _Optional[str] = ..., name: _Optional[str] = ..., endpoint: _Optional[str] = ..., signing_key: _Optional[bytes] = ..., encryption_key: _Optional[bytes] = ..., audit_key: _Optional[bytes] = ..., valid_from_ms: _Optional[int] = ..., valid_until_ms: _Optional[int] = ...) -> None: ...

class SignedCard(_message.Message):
    __slots__ = ("card", "signature")
    CARD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    card: bytes
    signature: bytes
    def __init__(self, card: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...
