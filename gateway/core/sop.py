"""Standard operating procedures (DESIGN.md section 7): the one module callers import.

The engine is split in three for size: `sop_model` (the vocabulary, `Rule` and `Sop`),
`sop_parse` (TOML files to a `SopSet`, with errors that name the file, line and field) and
`sop_plan` (who gets a notice and what each recipient sees, on the sending and receiving side).
Everything public is re-exported here.
"""

from __future__ import annotations

from gateway.core.sop_model import (
    ANY_PARTY,
    CASE_ROLES,
    FIELD_GROUPS,
    FIELD_PATHS,
    HANDLING_CODES,
    KINDS,
    LOCAL_ROLES,
    PERSONAL_GROUPS,
    ROLES,
    ROUTING_FIELDS,
    TLPS,
    TLPS_FOR_PERSONAL_DATA,
    HandlingCode,
    Kind,
    LocalRole,
    Role,
    Rule,
    Sop,
    SopError,
    Tlp,
    is_granted,
)
from gateway.core.sop_parse import (
    SopSet,
    SopSetError,
    format_duration,
    load_sops,
    parse_duration,
    parse_sop,
)
from gateway.core.sop_plan import (
    DirectoryEntry,
    Plan,
    PlanError,
    PlanInput,
    Recipient,
    Routing,
    allowed_view,
    check_fields,
    plan,
    role_of,
)

__all__ = [
    "ANY_PARTY",
    "CASE_ROLES",
    "FIELD_GROUPS",
    "FIELD_PATHS",
    "HANDLING_CODES",
    "KINDS",
    "LOCAL_ROLES",
    "PERSONAL_GROUPS",
    "ROLES",
    "ROUTING_FIELDS",
    "TLPS",
    "TLPS_FOR_PERSONAL_DATA",
    "DirectoryEntry",
    "HandlingCode",
    "Kind",
    "LocalRole",
    "Plan",
    "PlanError",
    "PlanInput",
    "Recipient",
    "Role",
    "Routing",
    "Rule",
    "Sop",
    "SopError",
    "SopSet",
    "SopSetError",
    "Tlp",
    "allowed_view",
    "check_fields",
    "format_duration",
    "is_granted",
    "load_sops",
    "parse_duration",
    "parse_sop",
    "plan",
    "role_of",
]
