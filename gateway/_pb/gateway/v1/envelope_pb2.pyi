from gateway._pb.gateway.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Suite(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUITE_UNSPECIFIED: _ClassVar[Suite]
    SUITE_ED25519_X25519_XCHACHA20POLY1305_V1: _ClassVar[Suite]

class ReceiptStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECEIPT_STATUS_UNSPECIFIED: _ClassVar[ReceiptStatus]
    RECEIPT_STATUS_ACCEPTED: _ClassVar[ReceiptStatus]

class RejectionCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECTION_CODE_UNSPECIFIED: _ClassVar[RejectionCode]
    REJECTION_CODE_OVERSIZED: _ClassVar[RejectionCode]
    REJECTION_CODE_MALFORMED: _ClassVar[RejectionCode]
    REJECTION_CODE_UNKNOWN_SENDER: _ClassVar[RejectionCode]
    REJECTION_CODE_REVOKED_KEY: _ClassVar[RejectionCode]
    REJECTION_CODE_BAD_SIGNATURE: _ClassVar[RejectionCode]
    REJECTION_CODE_NOT_FOR_US: _ClassVar[RejectionCode]
    REJECTION_CODE_FROM_FUTURE: _ClassVar[RejectionCode]
    REJECTION_CODE_EXPIRED: _ClassVar[RejectionCode]
    REJECTION_CODE_UNKNOWN_SOP: _ClassVar[RejectionCode]
    REJECTION_CODE_NOT_A_PARTY: _ClassVar[RejectionCode]
    REJECTION_CODE_BAD_STANZA: _ClassVar[RejectionCode]
    REJECTION_CODE_BAD_COMMITMENT: _ClassVar[RejectionCode]
    REJECTION_CODE_BAD_CIPHERTEXT: _ClassVar[RejectionCode]
    REJECTION_CODE_MALFORMED_PAYLOAD: _ClassVar[RejectionCode]
    REJECTION_CODE_FIELDS_NOT_ALLOWED: _ClassVar[RejectionCode]
    REJECTION_CODE_REPLAYED: _ClassVar[RejectionCode]
    REJECTION_CODE_UNSUPPORTED_SUITE: _ClassVar[RejectionCode]
SUITE_UNSPECIFIED: Suite
SUITE_ED25519_X25519_XCHACHA20POLY1305_V1: Suite
RECEIPT_STATUS_UNSPECIFIED: ReceiptStatus
RECEIPT_STATUS_ACCEPTED: ReceiptStatus
REJECTION_CODE_UNSPECIFIED: RejectionCode
REJECTION_CODE_OVERSIZED: RejectionCode
REJECTION_CODE_MALFORMED: RejectionCode
REJECTION_CODE_UNKNOWN_SENDER: RejectionCode
REJECTION_CODE_REVOKED_KEY: RejectionCode
REJECTION_CODE_BAD_SIGNATURE: RejectionCode
REJECTION_CODE_NOT_FOR_US: RejectionCode
REJECTION_CODE_FROM_FUTURE: RejectionCode
REJECTION_CODE_EXPIRED: RejectionCode
REJECTION_CODE_UNKNOWN_SOP: RejectionCode
REJECTION_CODE_NOT_A_PARTY: RejectionCode
REJECTION_CODE_BAD_STANZA: RejectionCode
REJECTION_CODE_BAD_COMMITMENT: RejectionCode
REJECTION_CODE_BAD_CIPHERTEXT: RejectionCode
REJECTION_CODE_MALFORMED_PAYLOAD: RejectionCode
REJECTION_CODE_FIELDS_NOT_ALLOWED: RejectionCode
REJECTION_CODE_REPLAYED: RejectionCode
REJECTION_CODE_UNSUPPORTED_SUITE: RejectionCode

class SignedEnvelope(_message.Message):
    __slots__ = ("header", "stanzas", "ciphertext", "signature", "signer_key_id")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    STANZAS_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    header: bytes
    stanzas: _containers.RepeatedScalarFieldContainer[bytes]
    ciphertext: bytes
    signature: bytes
    signer_key_id: bytes
    def __init__(self, header: _Optional[bytes] = ..., stanzas: _Optional[_Iterable[bytes]] = ..., ciphertext: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., signer_key_id: _Optional[bytes] = ...) -> None: ...

class Recipient(_message.Message):
    __slots__ = ("node_id", "encryption_key_id")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    encryption_key_id: bytes
    def __init__(self, node_id: _Optional[str] = ..., encryption_key_id: _Optional[bytes] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("suite", "message_id", "notice_id", "sender_node_id", "sender_key_id", "recipients", "kind", "sop_id", "sop_version", "created_at_ms", "expires_at_ms", "handling", "nonce", "key_commitment")
    SUITE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOP_ID_FIELD_NUMBER: _ClassVar[int]
    SOP_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HANDLING_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    KEY_COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    suite: Suite
    message_id: bytes
    notice_id: str
    sender_node_id: str
    sender_key_id: bytes
    recipients: _containers.RepeatedCompositeFieldContainer[Recipient]
    kind: _common_pb2.NoticeKind
    sop_id: str
    sop_version: int
    created_at_ms: int
    expires_at_ms: int
    handling: _common_pb2.Handling
    nonce: bytes
    key_commitment: bytes
    def __init__(self, suite: _Optional[_Union[Suite, str]] = ..., message_id: _Optional[bytes] = ..., notice_id: _Optional[str] = ..., sender_node_id: _Optional[str] = ..., sender_key_id: _Optional[bytes] = ..., recipients: _Optional[_Iterable[_Union[Recipient, _Mapping]]] = ..., kind: _Optional[_Union[_common_pb2.NoticeKind, str]] = ..., sop_id: _Optional[str] = ..., sop_version: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., handling: _Optional[_Union[_common_pb2.Handling, _Mapping]] = ..., nonce: _Optional[bytes] = ..., key_commitment: _Optional[bytes] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("message_id", "receiver_node_id", "received_at_ms", "header_digest", "status", "sender_node_id", "audit_checkpoint")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HEADER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    message_id: bytes
    receiver_node_id: str
    received_at_ms: int
    header_digest: bytes
    status: ReceiptStatus
    sender_node_id: str
    audit_checkpoint: bytes
    def __init__(self, message_id: _Optional[bytes] = ..., receiver_node_id: _Optional[str] = ..., received_at_ms: _Optional[int] = ..., header_digest: _Optional[bytes] = ..., status: _Optional[_Union[ReceiptStatus, str]] = ..., sender_node_id: _Optional[str] = ..., audit_checkpoint: _Optional[bytes] = ...) -> None: ...

class SignedReceipt(_message.Message):
    __slots__ = ("receipt", "signature", "signer_key_id")
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    receipt: bytes
    signature: bytes
    signer_key_id: bytes
    def __init__(self, receipt: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., signer_key_id: _Optional[bytes] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("message_id", "rejecter_node_id", "code", "reason", "rejected_at_ms", "envelope_digest")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REJECTER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REJECTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    message_id: bytes
    rejecter_node_id: str
    code: RejectionCode
    reason: str
    rejected_at_ms: int
    envelope_digest: bytes
    def __init__(self, message_id: _Optional[bytes] = ..., rejecter_node_id: _Optional[str] = ..., code: _Optional[_Union[RejectionCode, str]] = ..., reason: _Optional[str] = ..., rejected_at_ms: _Optional[int] = ..., envelope_digest: _Optional[bytes] = ...) -> None: ...

class SignedRejection(_message.Message):
    __slots__ = ("rejection", "signature", "signer_key_id")
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    rejection: bytes
    signature: bytes
    signer_key_id: bytes
    def __init__(self, rejection: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., signer_key_id: _Optional[bytes] = ...) -> None: ...
