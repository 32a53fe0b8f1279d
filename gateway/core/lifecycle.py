"""The lifecycle of notices: one table of allowed transitions per thing that has a state.

Three things move through states (DESIGN.md section 6, CONVENTIONS.md section 2):

- a notice we write:      draft -> awaiting_approval -> approved -> dispatched -> closed
  (a rule that needs no approval goes draft -> approved);
- each recipient of it:   queued -> delivered -> acknowledged, or -> expired / -> rejected,
  and -> overdue when the SOP's acknowledgement deadline passes first. The outbox keeps its own
  delivery state (queued, delivered, expired, rejected) for the delivery workers; the recipient
  state adds what the SOP cares about (acknowledged, overdue) on top of it;
- a notice we received:   received -> acknowledged, and -> withdrawn when its sender withdraws
  it (a correction leaves the state as it is and replaces fields).

Choice: plain mappings from (state, event) to the next state, and one function per table that
applies an event or raises StateError naming the state, the event and the notice. The store
calls these inside its transactions, so a state is only ever written through this module.
Events a peer causes (a receipt, an acknowledgement) may arrive twice or late; the store asks
`allows` first and ignores what does not apply, rather than failing the peer's delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, Literal, get_args

from gateway.errors import NotAllowed, StateError

__all__ = [
    "INBOX_STATES",
    "INBOX_TRANSITIONS",
    "NOTICE_STATES",
    "NOTICE_TRANSITIONS",
    "RECIPIENT_STATES",
    "RECIPIENT_TRANSITIONS",
    "InboxEvent",
    "InboxState",
    "NoticeEvent",
    "NoticeState",
    "RecipientEvent",
    "RecipientState",
    "allows",
    "approval_event",
    "inbox_next",
    "is_finished",
    "notice_next",
    "recipient_next",
]

NoticeState = Literal["draft", "awaiting_approval", "approved", "dispatched", "closed"]
NoticeEvent = Literal["submit", "skip_approval", "approve", "approve_last", "dispatch", "close"]
NOTICE_STATES: Final[tuple[NoticeState, ...]] = get_args(NoticeState)

NOTICE_TRANSITIONS: Final[Mapping[tuple[str, str], NoticeState]] = MappingProxyType(
    {
        ("draft", "submit"): "awaiting_approval",  # the rule needs approvals
        ("draft", "skip_approval"): "approved",  # the rule needs none
        ("awaiting_approval", "approve"): "awaiting_approval",  # more approvals to come
        ("awaiting_approval", "approve_last"): "approved",
        ("approved", "dispatch"): "dispatched",
        ("dispatched", "close"): "closed",  # every recipient has a final state
    }
)

RecipientState = Literal["queued", "delivered", "acknowledged", "overdue", "expired", "rejected"]
RecipientEvent = Literal["deliver", "acknowledge", "deadline_passed", "expire", "reject"]
RECIPIENT_STATES: Final[tuple[RecipientState, ...]] = get_args(RecipientState)

RECIPIENT_TRANSITIONS: Final[Mapping[tuple[str, str], RecipientState]] = MappingProxyType(
    {
        ("queued", "deliver"): "delivered",
        ("queued", "reject"): "rejected",
        ("queued", "expire"): "expired",
        # The acknowledgement can overtake the receipt (the receipt's answer was lost and the
        # envelope is being sent again): it proves delivery all the same.
        ("queued", "acknowledge"): "acknowledged",
        ("delivered", "acknowledge"): "acknowledged",
        ("acknowledged", "deliver"): "acknowledged",
        # The SOP's acknowledgement deadline passed without an acknowledgement.
        ("queued", "deadline_passed"): "overdue",
        ("delivered", "deadline_passed"): "overdue",
        ("overdue", "deliver"): "overdue",  # delivered late: still not acknowledged
        ("overdue", "acknowledge"): "acknowledged",  # late, but acknowledged
        ("overdue", "reject"): "rejected",
        ("overdue", "expire"): "expired",
    }
)

InboxState = Literal["received", "acknowledged", "withdrawn"]
InboxEvent = Literal["acknowledge", "correct", "withdraw"]
INBOX_STATES: Final[tuple[InboxState, ...]] = get_args(InboxState)

INBOX_TRANSITIONS: Final[Mapping[tuple[str, str], InboxState]] = MappingProxyType(
    {
        ("received", "acknowledge"): "acknowledged",
        ("received", "correct"): "received",
        ("acknowledged", "correct"): "acknowledged",
        ("received", "withdraw"): "withdrawn",
        ("acknowledged", "withdraw"): "withdrawn",
    }
)

# Recipient states after which nothing more is expected of that recipient.
_FINAL_RECIPIENT: Final = frozenset({"acknowledged", "expired", "rejected"})


def _refuse(
    table: Mapping[tuple[str, str], str], what: str, state: str, event: str, notice_id: str
) -> StateError:
    allowed = sorted(e for s, e in table if s == state)
    hint = f"; allowed in {state}: {', '.join(allowed)}" if allowed else " (a final state)"
    return StateError(f"{what} {notice_id}: cannot {event} in state {state}{hint}")


def notice_next(state: str, event: NoticeEvent, notice_id: str) -> NoticeState:
    """The state of our notice after `event`; StateError if the table does not allow it."""
    following = NOTICE_TRANSITIONS.get((state, event))
    if following is None:
        raise _refuse(NOTICE_TRANSITIONS, "notice", state, event, notice_id)
    return following


def recipient_next(state: str, event: RecipientEvent, notice_id: str) -> RecipientState:
    """The state of one recipient of `notice_id` after `event`; StateError if not allowed."""
    following = RECIPIENT_TRANSITIONS.get((state, event))
    if following is None:
        raise _refuse(RECIPIENT_TRANSITIONS, "recipient of notice", state, event, notice_id)
    return following


def inbox_next(state: str, event: InboxEvent, notice_id: str) -> InboxState:
    """The state of a received notice after `event`; StateError if not allowed."""
    following = INBOX_TRANSITIONS.get((state, event))
    if following is None:
        raise _refuse(INBOX_TRANSITIONS, "received notice", state, event, notice_id)
    return following


def allows(table: Mapping[tuple[str, str], str], state: str, event: str) -> bool:
    """True if `table` has a transition for `event` in `state`."""
    return (state, event) in table


def approval_event(
    *,
    notice_id: str,
    state: str,
    drafter: str,
    approver: str,
    approvers: Iterable[str],
    required: int,
) -> NoticeEvent:
    """The event one more approval by `approver` makes, or why it is refused.

    Approvals count people other than the drafter (four-eyes): the drafter may not approve,
    nor may anyone approve twice. NotAllowed for the person, StateError for the notice.
    """
    given = frozenset(approvers)
    if approver == drafter:
        raise NotAllowed(
            f"notice {notice_id}: {approver} drafted it and cannot approve it; another officer"
            " must (four-eyes principle)"
        )
    if approver in given:
        raise NotAllowed(f"notice {notice_id}: {approver} has already approved it")
    event: NoticeEvent = "approve_last" if len(given) + 1 >= required else "approve"
    notice_next(state, event, notice_id)  # raises in any state but awaiting_approval
    return event


def is_finished(states: Iterable[str], *, ack_expected: bool) -> bool:
    """True when nothing more is expected of any recipient, so the notice can be closed.

    A delivered recipient is finished only when the SOP expects no acknowledgement.
    """
    final = _FINAL_RECIPIENT | ({"delivered"} if not ack_expected else frozenset())
    listed = list(states)
    return bool(listed) and all(state in final for state in listed)
