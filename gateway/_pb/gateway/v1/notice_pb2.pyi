from gateway._pb.gateway.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgeBand(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGE_BAND_UNSPECIFIED: _ClassVar[AgeBand]
    AGE_BAND_0_11: _ClassVar[AgeBand]
    AGE_BAND_12_17: _ClassVar[AgeBand]
    AGE_BAND_18_24: _ClassVar[AgeBand]
    AGE_BAND_25_34: _ClassVar[AgeBand]
    AGE_BAND_35_49: _ClassVar[AgeBand]
    AGE_BAND_50_PLUS: _ClassVar[AgeBand]

class Sex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEX_UNSPECIFIED: _ClassVar[Sex]
    SEX_FEMALE: _ClassVar[Sex]
    SEX_MALE: _ClassVar[Sex]
    SEX_OTHER: _ClassVar[Sex]
    SEX_UNKNOWN: _ClassVar[Sex]

class DocumentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_TYPE_UNSPECIFIED: _ClassVar[DocumentType]
    DOCUMENT_TYPE_PASSPORT: _ClassVar[DocumentType]
    DOCUMENT_TYPE_NATIONAL_ID: _ClassVar[DocumentType]
    DOCUMENT_TYPE_RESIDENCE_PERMIT: _ClassVar[DocumentType]
    DOCUMENT_TYPE_TRAVEL_DOCUMENT: _ClassVar[DocumentType]
    DOCUMENT_TYPE_OTHER: _ClassVar[DocumentType]

class SpecialNeed(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPECIAL_NEED_UNSPECIFIED: _ClassVar[SpecialNeed]
    SPECIAL_NEED_MEDICAL: _ClassVar[SpecialNeed]
    SPECIAL_NEED_DISABILITY: _ClassVar[SpecialNeed]
    SPECIAL_NEED_PREGNANCY: _ClassVar[SpecialNeed]
    SPECIAL_NEED_PSYCHOLOGICAL: _ClassVar[SpecialNeed]
    SPECIAL_NEED_UNACCOMPANIED_MINOR: _ClassVar[SpecialNeed]
    SPECIAL_NEED_OTHER: _ClassVar[SpecialNeed]

class ProtectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTECTION_STATUS_UNSPECIFIED: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_NONE: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_REFERRED: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_SHELTER: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_REFLECTION_PERIOD: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_RESIDENCE_PERMIT_GRANTED: _ClassVar[ProtectionStatus]
    PROTECTION_STATUS_RETURNED: _ClassVar[ProtectionStatus]

class Consent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_UNSPECIFIED: _ClassVar[Consent]
    CONSENT_GIVEN: _ClassVar[Consent]
    CONSENT_REFUSED: _ClassVar[Consent]
    CONSENT_NOT_ASKED: _ClassVar[Consent]
    CONSENT_NOT_APPLICABLE: _ClassVar[Consent]

class Act(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACT_UNSPECIFIED: _ClassVar[Act]
    ACT_RECRUITMENT: _ClassVar[Act]
    ACT_TRANSPORTATION: _ClassVar[Act]
    ACT_TRANSFER: _ClassVar[Act]
    ACT_HARBOURING: _ClassVar[Act]
    ACT_RECEIPT: _ClassVar[Act]

class Means(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEANS_UNSPECIFIED: _ClassVar[Means]
    MEANS_THREAT: _ClassVar[Means]
    MEANS_FORCE: _ClassVar[Means]
    MEANS_COERCION: _ClassVar[Means]
    MEANS_ABDUCTION: _ClassVar[Means]
    MEANS_FRAUD: _ClassVar[Means]
    MEANS_DECEPTION: _ClassVar[Means]
    MEANS_ABUSE_OF_POWER: _ClassVar[Means]
    MEANS_ABUSE_OF_VULNERABILITY: _ClassVar[Means]
    MEANS_PAYMENTS: _ClassVar[Means]

class Purpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PURPOSE_UNSPECIFIED: _ClassVar[Purpose]
    PURPOSE_SEXUAL_EXPLOITATION: _ClassVar[Purpose]
    PURPOSE_FORCED_LABOUR: _ClassVar[Purpose]
    PURPOSE_SLAVERY: _ClassVar[Purpose]
    PURPOSE_SERVITUDE: _ClassVar[Purpose]
    PURPOSE_ORGAN_REMOVAL: _ClassVar[Purpose]
    PURPOSE_FORCED_CRIMINALITY: _ClassVar[Purpose]
    PURPOSE_FORCED_MARRIAGE: _ClassVar[Purpose]
    PURPOSE_BEGGING: _ClassVar[Purpose]
    PURPOSE_OTHER: _ClassVar[Purpose]

class RecruitmentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECRUITMENT_METHOD_UNSPECIFIED: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_ONLINE_JOB_ADVERT: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_SOCIAL_MEDIA: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_DATING_PLATFORM: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_MESSAGING_APP: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_RECRUITMENT_AGENCY: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_PERSONAL_NETWORK: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_FAMILY: _ClassVar[RecruitmentMethod]
    RECRUITMENT_METHOD_OTHER: _ClassVar[RecruitmentMethod]

class IctPlatform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ICT_PLATFORM_UNSPECIFIED: _ClassVar[IctPlatform]
    ICT_PLATFORM_FACEBOOK: _ClassVar[IctPlatform]
    ICT_PLATFORM_INSTAGRAM: _ClassVar[IctPlatform]
    ICT_PLATFORM_TIKTOK: _ClassVar[IctPlatform]
    ICT_PLATFORM_TELEGRAM: _ClassVar[IctPlatform]
    ICT_PLATFORM_WHATSAPP: _ClassVar[IctPlatform]
    ICT_PLATFORM_X: _ClassVar[IctPlatform]
    ICT_PLATFORM_VK: _ClassVar[IctPlatform]
    ICT_PLATFORM_WECHAT: _ClassVar[IctPlatform]
    ICT_PLATFORM_WEBSITE: _ClassVar[IctPlatform]
    ICT_PLATFORM_OTHER: _ClassVar[IctPlatform]

class TransportMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSPORT_MODE_UNSPECIFIED: _ClassVar[TransportMode]
    TRANSPORT_MODE_AIR: _ClassVar[TransportMode]
    TRANSPORT_MODE_LAND: _ClassVar[TransportMode]
    TRANSPORT_MODE_SEA: _ClassVar[TransportMode]
    TRANSPORT_MODE_RAIL: _ClassVar[TransportMode]
    TRANSPORT_MODE_UNKNOWN: _ClassVar[TransportMode]

class DocumentUse(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_USE_UNSPECIFIED: _ClassVar[DocumentUse]
    DOCUMENT_USE_GENUINE: _ClassVar[DocumentUse]
    DOCUMENT_USE_FORGED: _ClassVar[DocumentUse]
    DOCUMENT_USE_COUNTERFEIT: _ClassVar[DocumentUse]
    DOCUMENT_USE_FRAUDULENTLY_OBTAINED: _ClassVar[DocumentUse]
    DOCUMENT_USE_IMPOSTOR: _ClassVar[DocumentUse]
    DOCUMENT_USE_NONE: _ClassVar[DocumentUse]

class FinancialIndicator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINANCIAL_INDICATOR_UNSPECIFIED: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_DEBT_BONDAGE: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_MONEY_TRANSFER_SERVICE: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_CRYPTOCURRENCY: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_CASH_COURIERS: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_FRONT_COMPANY: _ClassVar[FinancialIndicator]
    FINANCIAL_INDICATOR_OTHER: _ClassVar[FinancialIndicator]

class OrganisedGroupIndicator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANISED_GROUP_INDICATOR_UNSPECIFIED: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_TRANSNATIONAL_NETWORK: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_DOCUMENT_FRAUD_CELL: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_CORRUPTION: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_VIOLENCE_ENFORCEMENT: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_MONEY_LAUNDERING: _ClassVar[OrganisedGroupIndicator]
    ORGANISED_GROUP_INDICATOR_OTHER: _ClassVar[OrganisedGroupIndicator]

class SourceEvaluation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_EVALUATION_UNSPECIFIED: _ClassVar[SourceEvaluation]
    SOURCE_EVALUATION_A: _ClassVar[SourceEvaluation]
    SOURCE_EVALUATION_B: _ClassVar[SourceEvaluation]
    SOURCE_EVALUATION_C: _ClassVar[SourceEvaluation]
    SOURCE_EVALUATION_X: _ClassVar[SourceEvaluation]

class InformationEvaluation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFORMATION_EVALUATION_UNSPECIFIED: _ClassVar[InformationEvaluation]
    INFORMATION_EVALUATION_1: _ClassVar[InformationEvaluation]
    INFORMATION_EVALUATION_2: _ClassVar[InformationEvaluation]
    INFORMATION_EVALUATION_3: _ClassVar[InformationEvaluation]
    INFORMATION_EVALUATION_4: _ClassVar[InformationEvaluation]

class ResponseOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESPONSE_OUTCOME_UNSPECIFIED: _ClassVar[ResponseOutcome]
    RESPONSE_OUTCOME_RECEIVED: _ClassVar[ResponseOutcome]
    RESPONSE_OUTCOME_ACCEPTED: _ClassVar[ResponseOutcome]
    RESPONSE_OUTCOME_DECLINED: _ClassVar[ResponseOutcome]

class AmendmentReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AMENDMENT_REASON_UNSPECIFIED: _ClassVar[AmendmentReason]
    AMENDMENT_REASON_ERROR: _ClassVar[AmendmentReason]
    AMENDMENT_REASON_NEW_INFORMATION: _ClassVar[AmendmentReason]
    AMENDMENT_REASON_LEGAL_ORDER: _ClassVar[AmendmentReason]
    AMENDMENT_REASON_OTHER: _ClassVar[AmendmentReason]
AGE_BAND_UNSPECIFIED: AgeBand
AGE_BAND_0_11: AgeBand
AGE_BAND_12_17: AgeBand
AGE_BAND_18_24: AgeBand
AGE_BAND_25_34: AgeBand
AGE_BAND_35_49: AgeBand
AGE_BAND_50_PLUS: AgeBand
SEX_UNSPECIFIED: Sex
SEX_FEMALE: Sex
SEX_MALE: Sex
SEX_OTHER: Sex
SEX_UNKNOWN: Sex
DOCUMENT_TYPE_UNSPECIFIED: DocumentType
DOCUMENT_TYPE_PASSPORT: DocumentType
DOCUMENT_TYPE_NATIONAL_ID: DocumentType
DOCUMENT_TYPE_RESIDENCE_PERMIT: DocumentType
DOCUMENT_TYPE_TRAVEL_DOCUMENT: DocumentType
DOCUMENT_TYPE_OTHER: DocumentType
SPECIAL_NEED_UNSPECIFIED: SpecialNeed
SPECIAL_NEED_MEDICAL: SpecialNeed
SPECIAL_NEED_DISABILITY: SpecialNeed
SPECIAL_NEED_PREGNANCY: SpecialNeed
SPECIAL_NEED_PSYCHOLOGICAL: SpecialNeed
SPECIAL_NEED_UNACCOMPANIED_MINOR: SpecialNeed
SPECIAL_NEED_OTHER: SpecialNeed
PROTECTION_STATUS_UNSPECIFIED: ProtectionStatus
PROTECTION_STATUS_NONE: ProtectionStatus
PROTECTION_STATUS_REFERRED: ProtectionStatus
PROTECTION_STATUS_SHELTER: ProtectionStatus
PROTECTION_STATUS_REFLECTION_PERIOD: ProtectionStatus
PROTECTION_STATUS_RESIDENCE_PERMIT_GRANTED: ProtectionStatus
PROTECTION_STATUS_RETURNED: ProtectionStatus
CONSENT_UNSPECIFIED: Consent
CONSENT_GIVEN: Consent
CONSENT_REFUSED: Consent
CONSENT_NOT_ASKED: Consent
CONSENT_NOT_APPLICABLE: Consent
ACT_UNSPECIFIED: Act
ACT_RECRUITMENT: Act
ACT_TRANSPORTATION: Act
ACT_TRANSFER: Act
ACT_HARBOURING: Act
ACT_RECEIPT: Act
MEANS_UNSPECIFIED: Means
MEANS_THREAT: Means
MEANS_FORCE: Means
MEANS_COERCION: Means
MEANS_ABDUCTION: Means
MEANS_FRAUD: Means
MEANS_DECEPTION: Means
MEANS_ABUSE_OF_POWER: Means
MEANS_ABUSE_OF_VULNERABILITY: Means
MEANS_PAYMENTS: Means
PURPOSE_UNSPECIFIED: Purpose
PURPOSE_SEXUAL_EXPLOITATION: Purpose
PURPOSE_FORCED_LABOUR: Purpose
PURPOSE_SLAVERY: Purpose
PURPOSE_SERVITUDE: Purpose
PURPOSE_ORGAN_REMOVAL: Purpose
PURPOSE_FORCED_CRIMINALITY: Purpose
PURPOSE_FORCED_MARRIAGE: Purpose
PURPOSE_BEGGING: Purpose
PURPOSE_OTHER: Purpose
RECRUITMENT_METHOD_UNSPECIFIED: RecruitmentMethod
RECRUITMENT_METHOD_ONLINE_JOB_ADVERT: RecruitmentMethod
RECRUITMENT_METHOD_SOCIAL_MEDIA: RecruitmentMethod
RECRUITMENT_METHOD_DATING_PLATFORM: RecruitmentMethod
RECRUITMENT_METHOD_MESSAGING_APP: RecruitmentMethod
RECRUITMENT_METHOD_RECRUITMENT_AGENCY: RecruitmentMethod
RECRUITMENT_METHOD_PERSONAL_NETWORK: RecruitmentMethod
RECRUITMENT_METHOD_FAMILY: RecruitmentMethod
RECRUITMENT_METHOD_OTHER: RecruitmentMethod
ICT_PLATFORM_UNSPECIFIED: IctPlatform
ICT_PLATFORM_FACEBOOK: IctPlatform
ICT_PLATFORM_INSTAGRAM: IctPlatform
ICT_PLATFORM_TIKTOK: IctPlatform
ICT_PLATFORM_TELEGRAM: IctPlatform
ICT_PLATFORM_WHATSAPP: IctPlatform
ICT_PLATFORM_X: IctPlatform
ICT_PLATFORM_VK: IctPlatform
ICT_PLATFORM_WECHAT: IctPlatform
ICT_PLATFORM_WEBSITE: IctPlatform
ICT_PLATFORM_OTHER: IctPlatform
TRANSPORT_MODE_UNSPECIFIED: TransportMode
TRANSPORT_MODE_AIR: TransportMode
TRANSPORT_MODE_LAND: TransportMode
TRANSPORT_MODE_SEA: TransportMode
TRANSPORT_MODE_RAIL: TransportMode
TRANSPORT_MODE_UNKNOWN: TransportMode
DOCUMENT_USE_UNSPECIFIED: DocumentUse
DOCUMENT_USE_GENUINE: DocumentUse
DOCUMENT_USE_FORGED: DocumentUse
DOCUMENT_USE_COUNTERFEIT: DocumentUse
DOCUMENT_USE_FRAUDULENTLY_OBTAINED: DocumentUse
DOCUMENT_USE_IMPOSTOR: DocumentUse
DOCUMENT_USE_NONE: DocumentUse
FINANCIAL_INDICATOR_UNSPECIFIED: FinancialIndicator
FINANCIAL_INDICATOR_DEBT_BONDAGE: FinancialIndicator
FINANCIAL_INDICATOR_MONEY_TRANSFER_SERVICE: FinancialIndicator
FINANCIAL_INDICATOR_CRYPTOCURRENCY: FinancialIndicator
FINANCIAL_INDICATOR_CASH_COURIERS: FinancialIndicator
FINANCIAL_INDICATOR_FRONT_COMPANY: FinancialIndicator
FINANCIAL_INDICATOR_OTHER: FinancialIndicator
ORGANISED_GROUP_INDICATOR_UNSPECIFIED: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_TRANSNATIONAL_NETWORK: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_DOCUMENT_FRAUD_CELL: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_CORRUPTION: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_VIOLENCE_ENFORCEMENT: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_MONEY_LAUNDERING: OrganisedGroupIndicator
ORGANISED_GROUP_INDICATOR_OTHER: OrganisedGroupIndicator
SOURCE_EVALUATION_UNSPECIFIED: SourceEvaluation
SOURCE_EVALUATION_A: SourceEvaluation
SOURCE_EVALUATION_B: SourceEvaluation
SOURCE_EVALUATION_C: SourceEvaluation
SOURCE_EVALUATION_X: SourceEvaluation
INFORMATION_EVALUATION_UNSPECIFIED: InformationEvaluation
INFORMATION_EVALUATION_1: InformationEvaluation
INFORMATION_EVALUATION_2: InformationEvaluation
INFORMATION_EVALUATION_3: InformationEvaluation
INFORMATION_EVALUATION_4: InformationEvaluation
RESPONSE_OUTCOME_UNSPECIFIED: ResponseOutcome
RESPONSE_OUTCOME_RECEIVED: ResponseOutcome
RESPONSE_OUTCOME_ACCEPTED: ResponseOutcome
RESPONSE_OUTCOME_DECLINED: ResponseOutcome
AMENDMENT_REASON_UNSPECIFIED: AmendmentReason
AMENDMENT_REASON_ERROR: AmendmentReason
AMENDMENT_REASON_NEW_INFORMATION: AmendmentReason
AMENDMENT_REASON_LEGAL_ORDER: AmendmentReason
AMENDMENT_REASON_OTHER: AmendmentReason

class Notice(_message.Message):
    __slots__ = ("notice_id", "kind", "sop_id", "sop_version", "sender_node_id", "created_at_ms", "case", "victim", "facts", "modus_operandi", "handling", "response", "amendment", "investigation")
    NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOP_ID_FIELD_NUMBER: _ClassVar[int]
    SOP_VERSION_FIELD_NUMBER: _ClassVar[int]
    SENDER_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CASE_FIELD_NUMBER: _ClassVar[int]
    VICTIM_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    MODUS_OPERANDI_FIELD_NUMBER: _ClassVar[int]
    HANDLING_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    INVESTIGATION_FIELD_NUMBER: _ClassVar[int]
    notice_id: str
    kind: _common_pb2.NoticeKind
    sop_id: str
    sop_version: int
    sender_node_id: str
    created_at_ms: int
    case: CaseContext
    victim: Victim
    facts: Facts
    modus_operandi: ModusOperandi
    handling: NoticeHandling
    response: NoticeResponse
    amendment: NoticeAmendment
    investigation: JointInvestigation
    def __init__(self, notice_id: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.NoticeKind, str]] = ..., sop_id: _Optional[str] = ..., sop_version: _Optional[int] = ..., sender_node_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., case: _Optional[_Union[CaseContext, _Mapping]] = ..., victim: _Optional[_Union[Victim, _Mapping]] = ..., facts: _Optional[_Union[Facts, _Mapping]] = ..., modus_operandi: _Optional[_Union[ModusOperandi, _Mapping]] = ..., handling: _Optional[_Union[NoticeHandling, _Mapping]] = ..., response: _Optional[_Union[NoticeResponse, _Mapping]] = ..., amendment: _Optional[_Union[NoticeAmendment, _Mapping]] = ..., investigation: _Optional[_Union[JointInvestigation, _Mapping]] = ...) -> None: ...

class CaseContext(_message.Message):
    __slots__ = ("reference", "origin_country", "transit_countries", "destination_country", "identified_at_ms", "identified_place", "identifying_authority")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    TRANSIT_COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIED_PLACE_FIELD_NUMBER: _ClassVar[int]
    IDENTIFYING_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    reference: str
    origin_country: str
    transit_countries: _containers.RepeatedScalarFieldContainer[str]
    destination_country: str
    identified_at_ms: int
    identified_place: str
    identifying_authority: str
    def __init__(self, reference: _Optional[str] = ..., origin_country: _Optional[str] = ..., transit_countries: _Optional[_Iterable[str]] = ..., destination_country: _Optional[str] = ..., identified_at_ms: _Optional[int] = ..., identified_place: _Optional[str] = ..., identifying_authority: _Optional[str] = ...) -> None: ...

class IdentityDocument(_message.Message):
    __slots__ = ("document_type", "number", "issuing_country", "expires_on")
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ISSUING_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    document_type: DocumentType
    number: str
    issuing_country: str
    expires_on: str
    def __init__(self, document_type: _Optional[_Union[DocumentType, str]] = ..., number: _Optional[str] = ..., issuing_country: _Optional[str] = ..., expires_on: _Optional[str] = ...) -> None: ...

class Victim(_message.Message):
    __slots__ = ("family_name", "given_names", "date_of_birth", "age_band", "sex", "nationalities", "identity_documents", "languages", "is_child", "special_needs", "protection_status", "consent_to_share")
    FAMILY_NAME_FIELD_NUMBER: _ClassVar[int]
    GIVEN_NAMES_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    AGE_BAND_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    NATIONALITIES_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    IS_CHILD_FIELD_NUMBER: _ClassVar[int]
    SPECIAL_NEEDS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_STATUS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_TO_SHARE_FIELD_NUMBER: _ClassVar[int]
    family_name: str
    given_names: str
    date_of_birth: str
    age_band: AgeBand
    sex: Sex
    nationalities: _containers.RepeatedScalarFieldContainer[str]
    identity_documents: _containers.RepeatedCompositeFieldContainer[IdentityDocument]
    languages: _containers.RepeatedScalarFieldContainer[str]
    is_child: bool
    special_needs: _containers.RepeatedScalarFieldContainer[SpecialNeed]
    protection_status: ProtectionStatus
    consent_to_share: Consent
    def __init__(self, family_name: _Optional[str] = ..., given_names: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., age_band: _Optional[_Union[AgeBand, str]] = ..., sex: _Optional[_Union[Sex, str]] = ..., nationalities: _Optional[_Iterable[str]] = ..., identity_documents: _Optional[_Iterable[_Union[IdentityDocument, _Mapping]]] = ..., languages: _Optional[_Iterable[str]] = ..., is_child: _Optional[bool] = ..., special_needs: _Optional[_Iterable[_Union[SpecialNeed, str]]] = ..., protection_status: _Optional[_Union[ProtectionStatus, str]] = ..., consent_to_share: _Optional[_Union[Consent, str]] = ...) -> None: ...

class Facts(_message.Message):
    __slots__ = ("acts", "means", "purposes", "exploitation_countries", "period_start", "period_end")
    ACTS_FIELD_NUMBER: _ClassVar[int]
    MEANS_FIELD_NUMBER: _ClassVar[int]
    PURPOSES_FIELD_NUMBER: _ClassVar[int]
    EXPLOITATION_COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    acts: _containers.RepeatedScalarFieldContainer[Act]
    means: _containers.RepeatedScalarFieldContainer[Means]
    purposes: _containers.RepeatedScalarFieldContainer[Purpose]
    exploitation_countries: _containers.RepeatedScalarFieldContainer[str]
    period_start: str
    period_end: str
    def __init__(self, acts: _Optional[_Iterable[_Union[Act, str]]] = ..., means: _Optional[_Iterable[_Union[Means, str]]] = ..., purposes: _Optional[_Iterable[_Union[Purpose, str]]] = ..., exploitation_countries: _Optional[_Iterable[str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ...) -> None: ...

class IctPlatformUse(_message.Message):
    __slots__ = ("platform", "platform_name", "account_identifier")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    platform: IctPlatform
    platform_name: str
    account_identifier: str
    def __init__(self, platform: _Optional[_Union[IctPlatform, str]] = ..., platform_name: _Optional[str] = ..., account_identifier: _Optional[str] = ...) -> None: ...

class RouteLeg(_message.Message):
    __slots__ = ("from_country", "to_country", "transport_mode", "departed_on")
    FROM_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    TO_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEPARTED_ON_FIELD_NUMBER: _ClassVar[int]
    from_country: str
    to_country: str
    transport_mode: TransportMode
    departed_on: str
    def __init__(self, from_country: _Optional[str] = ..., to_country: _Optional[str] = ..., transport_mode: _Optional[_Union[TransportMode, str]] = ..., departed_on: _Optional[str] = ...) -> None: ...

class ModusOperandi(_message.Message):
    __slots__ = ("recruitment_methods", "ict_platforms", "route_legs", "documents_used", "financial_indicators", "organised_group_indicators")
    RECRUITMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    ICT_PLATFORMS_FIELD_NUMBER: _ClassVar[int]
    ROUTE_LEGS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_USED_FIELD_NUMBER: _ClassVar[int]
    FINANCIAL_INDICATORS_FIELD_NUMBER: _ClassVar[int]
    ORGANISED_GROUP_INDICATORS_FIELD_NUMBER: _ClassVar[int]
    recruitment_methods: _containers.RepeatedScalarFieldContainer[RecruitmentMethod]
    ict_platforms: _containers.RepeatedCompositeFieldContainer[IctPlatformUse]
    route_legs: _containers.RepeatedCompositeFieldContainer[RouteLeg]
    documents_used: _containers.RepeatedScalarFieldContainer[DocumentUse]
    financial_indicators: _containers.RepeatedScalarFieldContainer[FinancialIndicator]
    organised_group_indicators: _containers.RepeatedScalarFieldContainer[OrganisedGroupIndicator]
    def __init__(self, recruitment_methods: _Optional[_Iterable[_Union[RecruitmentMethod, str]]] = ..., ict_platforms: _Optional[_Iterable[_Union[IctPlatformUse, _Mapping]]] = ..., route_legs: _Optional[_Iterable[_Union[RouteLeg, _Mapping]]] = ..., documents_used: _Optional[_Iterable[_Union[DocumentUse, str]]] = ..., financial_indicators: _Optional[_Iterable[_Union[FinancialIndicator, str]]] = ..., organised_group_indicators: _Optional[_Iterable[_Union[OrganisedGroupIndicator, str]]] = ...) -> None: ...

class NoticeHandling(_message.Message):
    __slots__ = ("tlp", "handling_code", "source_evaluation", "information_evaluation", "purpose", "retention_days")
    TLP_FIELD_NUMBER: _ClassVar[int]
    HANDLING_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVALUATION_FIELD_NUMBER: _ClassVar[int]
    INFORMATION_EVALUATION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    tlp: _common_pb2.Tlp
    handling_code: _common_pb2.HandlingCode
    source_evaluation: SourceEvaluation
    information_evaluation: InformationEvaluation
    purpose: str
    retention_days: int
    def __init__(self, tlp: _Optional[_Union[_common_pb2.Tlp, str]] = ..., handling_code: _Optional[_Union[_common_pb2.HandlingCode, str]] = ..., source_evaluation: _Optional[_Union[SourceEvaluation, str]] = ..., information_evaluation: _Optional[_Union[InformationEvaluation, str]] = ..., purpose: _Optional[str] = ..., retention_days: _Optional[int] = ...) -> None: ...

class NoticeResponse(_message.Message):
    __slots__ = ("related_notice_id", "outcome", "contact_unit")
    RELATED_NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_UNIT_FIELD_NUMBER: _ClassVar[int]
    related_notice_id: str
    outcome: ResponseOutcome
    contact_unit: str
    def __init__(self, related_notice_id: _Optional[str] = ..., outcome: _Optional[_Union[ResponseOutcome, str]] = ..., contact_unit: _Optional[str] = ...) -> None: ...

class NoticeAmendment(_message.Message):
    __slots__ = ("related_notice_id", "reason")
    RELATED_NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    related_notice_id: str
    reason: AmendmentReason
    def __init__(self, related_notice_id: _Optional[str] = ..., reason: _Optional[_Union[AmendmentReason, str]] = ...) -> None: ...

class JointInvestigation(_message.Message):
    __slots__ = ("lead_country", "participating_countries", "contact_unit")
    LEAD_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPATING_COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_UNIT_FIELD_NUMBER: _ClassVar[int]
    lead_country: str
    participating_countries: _containers.RepeatedScalarFieldContainer[str]
    contact_unit: str
    def __init__(self, lead_country: _Optional[str] = ..., participating_countries: _Optional[_Iterable[str]] = ..., contact_unit: _Optional[str] = ...) -> None: ...
