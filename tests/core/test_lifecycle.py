"""The lifecycle tables (gateway/core/lifecycle.py) and the corrections of received notices."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway._pb.gateway.v1 import notice_pb2
from gateway.core import lifecycle as lc
from gateway.core.amend import apply_correction
from gateway.errors import NotAllowed, StateError

NOTICE_EVENTS = ("submit", "skip_approval", "approve", "approve_last", "dispatch", "close")
RECIPIENT_EVENTS = ("deliver", "acknowledge", "deadline_passed", "expire", "reject")


def test_the_happy_paths() -> None:
    state = lc.notice_next("draft", "submit", "N-1")
    state = lc.notice_next(state, "approve_last", "N-1")
    state = lc.notice_next(state, "dispatch", "N-1")
    assert lc.notice_next(state, "close", "N-1") == "closed"
    assert lc.notice_next("draft", "skip_approval", "N-1") == "approved"
    r = lc.recipient_next("queued", "deliver", "N-1")
    assert lc.recipient_next(r, "acknowledge", "N-1") == "acknowledged"
    assert lc.recipient_next("delivered", "deadline_passed", "N-1") == "overdue"
    assert lc.recipient_next("overdue", "acknowledge", "N-1") == "acknowledged"
    assert lc.inbox_next("received", "withdraw", "N-1") == "withdrawn"


@pytest.mark.parametrize(
    ("state", "event"),
    [("draft", "dispatch"), ("awaiting_approval", "dispatch"), ("closed", "close")],
)
def test_an_illegal_notice_transition_names_state_event_and_notice(
    state: str, event: lc.NoticeEvent
) -> None:
    with pytest.raises(StateError) as info:
        lc.notice_next(state, event, "N-ABC")
    message = str(info.value)
    assert "N-ABC" in message and state in message and event in message


def test_illegal_recipient_and_inbox_transitions_raise() -> None:
    with pytest.raises(StateError, match="N-9: cannot acknowledge in state expired"):
        lc.recipient_next("expired", "acknowledge", "N-9")
    with pytest.raises(StateError, match="withdrawn"):
        lc.inbox_next("withdrawn", "acknowledge", "N-9")
    with pytest.raises(StateError):
        lc.inbox_next("withdrawn", "correct", "N-9")


def test_the_outbox_states_are_recipient_states() -> None:
    for state in ("queued", "delivered", "expired", "rejected"):
        assert state in lc.RECIPIENT_STATES


def test_approval_four_eyes() -> None:
    common = {"notice_id": "N-1", "state": "awaiting_approval", "drafter": "ana"}
    with pytest.raises(NotAllowed, match="ana drafted it"):
        lc.approval_event(**common, approver="ana", approvers=(), required=1)
    with pytest.raises(NotAllowed, match="already approved"):
        lc.approval_event(**common, approver="bea", approvers=("bea",), required=2)
    assert lc.approval_event(**common, approver="bea", approvers=(), required=2) == "approve"
    assert (
        lc.approval_event(**common, approver="cai", approvers=("bea",), required=2)
        == "approve_last"
    )
    with pytest.raises(StateError, match="approved"):
        lc.approval_event(**{**common, "state": "approved"}, approver="b", approvers=(), required=1)


def test_is_finished() -> None:
    assert not lc.is_finished([], ack_expected=False)
    assert lc.is_finished(["delivered", "rejected"], ack_expected=False)
    assert not lc.is_finished(["delivered", "acknowledged"], ack_expected=True)
    assert not lc.is_finished(["overdue"], ack_expected=True)
    assert lc.is_finished(["acknowledged", "expired"], ack_expected=True)


@given(st.lists(st.sampled_from(NOTICE_EVENTS), max_size=12))
def test_any_notice_event_sequence_stays_in_the_table(events: list[lc.NoticeEvent]) -> None:
    state: str = "draft"
    for event in events:
        if lc.allows(lc.NOTICE_TRANSITIONS, state, event):
            state = lc.notice_next(state, event, "N-P")
        else:
            with pytest.raises(StateError):
                lc.notice_next(state, event, "N-P")
        assert state in lc.NOTICE_STATES
    # Nothing is ever dispatched without passing through approved.
    if state in ("dispatched", "closed"):
        assert "dispatch" in events


@given(st.lists(st.sampled_from(RECIPIENT_EVENTS), max_size=12))
def test_recipient_events_never_leave_a_final_state(events: list[lc.RecipientEvent]) -> None:
    state: str = "queued"
    for event in events:
        before = state
        if lc.allows(lc.RECIPIENT_TRANSITIONS, state, event):
            state = lc.recipient_next(state, event, "N-P")
        if before in ("expired", "rejected"):
            assert state == before
        if before == "acknowledged":
            assert state == "acknowledged"  # an acknowledgement is never undone
        assert state in lc.RECIPIENT_STATES


@given(st.sets(st.sampled_from(["bea", "cai", "dan", "eve"]), min_size=0, max_size=4))
def test_approvals_reach_approved_only_with_enough_distinct_officers(approvers: set[str]) -> None:
    required = 2
    state: str = "awaiting_approval"
    given_: list[str] = []
    for approver in sorted(approvers):
        if state != "awaiting_approval":
            break
        event = lc.approval_event(
            notice_id="N-P",
            state=state,
            drafter="ana",
            approver=approver,
            approvers=given_,
            required=required,
        )
        state = lc.notice_next(state, event, "N-P")
        given_.append(approver)
    assert (state == "approved") == (len(given_) >= required)


def test_a_correction_replaces_only_the_fields_it_carries() -> None:
    original = notice_pb2.Notice(notice_id="N-1", sender_node_id="fr")
    original.case.reference = "REF-1"
    original.case.transit_countries.extend(["HN", "GT"])
    original.victim.given_names = "Ana"
    original.victim.family_name = "Old"
    correction = notice_pb2.Notice(notice_id="N-2", sender_node_id="fr")
    correction.victim.family_name = "New"
    correction.case.transit_countries.extend(["HN"])
    correction.amendment.related_notice_id = "N-1"

    corrected = apply_correction(original, correction)

    assert corrected.notice_id == "N-1"
    assert corrected.victim.family_name == "New"
    assert corrected.victim.given_names == "Ana"
    assert list(corrected.case.transit_countries) == ["HN"]
    assert corrected.case.reference == "REF-1"
    assert not corrected.HasField("amendment")
    assert original.victim.family_name == "Old"  # the original is not changed in place
