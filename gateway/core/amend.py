"""Corrections: what a received notice looks like once its sender corrected some of its fields.

A correction carries the fields it replaces (within what the receiver's role may see, which
the receiver checked on arrival) and an `amendment` group naming the notice it corrects. Each
field present in the correction replaces the same field of the original, whole: a list replaces
the list, a sub-message the sub-message. Fields the correction leaves out stay as they were.
The original's identity (id, sender, kind, SOP) never changes.
"""

from __future__ import annotations

from gateway._pb.gateway.v1 import notice_pb2

__all__ = ["apply_correction"]

# Groups of the correction itself, not of the notice it corrects.
_OWN_GROUPS = frozenset({"amendment"})


def apply_correction(
    original: notice_pb2.Notice, correction: notice_pb2.Notice
) -> notice_pb2.Notice:
    """A copy of `original` with every field present in `correction` replaced."""
    result = notice_pb2.Notice()
    result.CopyFrom(original)
    for group_field, group in correction.ListFields():
        if group_field.message_type is None or group_field.name in _OWN_GROUPS:
            continue  # top-level scalars: the correction's own id, kind and SOP
        target = getattr(result, group_field.name)
        for field, value in group.ListFields():
            target.ClearField(field.name)
            if field.is_repeated:
                getattr(target, field.name).extend(value)
            elif field.message_type is not None:
                getattr(target, field.name).CopyFrom(value)
            else:
                setattr(target, field.name, value)
    return result
