from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NoticeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTICE_KIND_UNSPECIFIED: _ClassVar[NoticeKind]
    NOTICE_KIND_VICTIM_IDENTIFICATION: _ClassVar[NoticeKind]
    NOTICE_KIND_MODUS_OPERANDI: _ClassVar[NoticeKind]
    NOTICE_KIND_ACKNOWLEDGEMENT: _ClassVar[NoticeKind]
    NOTICE_KIND_JOINT_INVESTIGATION_REQUEST: _ClassVar[NoticeKind]
    NOTICE_KIND_JOINT_INVESTIGATION_RESPONSE: _ClassVar[NoticeKind]
    NOTICE_KIND_CORRECTION: _ClassVar[NoticeKind]
    NOTICE_KIND_WITHDRAWAL: _ClassVar[NoticeKind]

class Tlp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TLP_UNSPECIFIED: _ClassVar[Tlp]
    TLP_CLEAR: _ClassVar[Tlp]
    TLP_GREEN: _ClassVar[Tlp]
    TLP_AMBER: _ClassVar[Tlp]
    TLP_AMBER_STRICT: _ClassVar[Tlp]
    TLP_RED: _ClassVar[Tlp]

class HandlingCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDLING_CODE_UNSPECIFIED: _ClassVar[HandlingCode]
    HANDLING_CODE_H0: _ClassVar[HandlingCode]
    HANDLING_CODE_H1: _ClassVar[HandlingCode]
    HANDLING_CODE_H2: _ClassVar[HandlingCode]
    HANDLING_CODE_H3: _ClassVar[HandlingCode]
NOTICE_KIND_UNSPECIFIED: NoticeKind
NOTICE_KIND_VICTIM_IDENTIFICATION: NoticeKind
NOTICE_KIND_MODUS_OPERANDI: NoticeKind
NOTICE_KIND_ACKNOWLEDGEMENT: NoticeKind
NOTICE_KIND_JOINT_INVESTIGATION_REQUEST: NoticeKind
NOTICE_KIND_JOINT_INVESTIGATION_RESPONSE: NoticeKind
NOTICE_KIND_CORRECTION: NoticeKind
NOTICE_KIND_WITHDRAWAL: NoticeKind
TLP_UNSPECIFIED: Tlp
TLP_CLEAR: Tlp
TLP_GREEN: Tlp
TLP_AMBER: Tlp
TLP_AMBER_STRICT: Tlp
TLP_RED: Tlp
HANDLING_CODE_UNSPECIFIED: HandlingCode
HANDLING_CODE_H0: HandlingCode
HANDLING_CODE_H1: HandlingCode
HANDLING_CODE_H2: HandlingCode
HANDLING_CODE_H3: HandlingCode

class Handling(_message.Message):
    __slots__ = ("tlp", "handling_code")
    TLP_FIELD_NUMBER: _ClassVar[int]
    HANDLING_CODE_FIELD_NUMBER: _ClassVar[int]
    tlp: Tlp
    handling_code: HandlingCode
    def __init__(self, tlp: _Optional[_Union[Tlp, str]] = ..., handling_code: _Optional[_Union[HandlingCode, str]] = ...) -> None: ...
