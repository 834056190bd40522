"""The service desk's tracked items (complaints, suggestions, questions) and their lifecycle.

OPEN -> ACKNOWLEDGED (the first response) -> IN_PROGRESS (progress fed back) -> RESOLVED (outcome,
cause) -> CLOSED after the follow-up survey, or REOPENED (then acknowledged again). The table
below is the one statement of which step is allowed from which status; resolvers/complaints.py
refuses any other with the status named.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import BadUserInput

TRACKED_KINDS = ("COMPLAINT", "SUGGESTION", "QUESTION")


class ComplaintStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


class Step(StrEnum):
    ACKNOWLEDGE = "acknowledgeComplaint"
    PROGRESS = "addComplaintProgress"
    RESOLVE = "resolveComplaint"
    CLOSE = "closeComplaint"
    REOPEN = "reopenComplaint"


S = ComplaintStatus
# step -> (the statuses it may start from, the status it leads to)
TRANSITIONS: dict[Step, tuple[frozenset[ComplaintStatus], ComplaintStatus]] = {
    Step.ACKNOWLEDGE: (frozenset({S.OPEN, S.REOPENED}), S.ACKNOWLEDGED),
    Step.PROGRESS: (frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}), S.IN_PROGRESS),
    Step.RESOLVE: (frozenset({S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REOPENED}), S.RESOLVED),
    Step.CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
    Step.REOPEN: (frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
}
OPEN_STATUSES = frozenset({S.OPEN, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REOPENED})


def next_status(step: Step, current: str, item_id: str) -> ComplaintStatus:
    """The status ``step`` leads to from ``current``; BAD_USER_INPUT naming both otherwise."""
    sources, target = TRANSITIONS[step]
    if current not in sources:
        allowed = " or ".join(sorted(sources))
        raise BadUserInput(
            f"{item_id} is {current}: {step.value} applies only to an item that is {allowed}"
        )
    return target


def derived_status(
    *, status: str | None, first_response_at: object, resolved_at: object
) -> ComplaintStatus:
    """The status of an item as stored; one loaded from a source system without a status is
    RESOLVED when it has a resolution time, ACKNOWLEDGED with a first response, else OPEN (the
    same expression as graph/queries/complaints.STATUS)."""
    if status:
        return ComplaintStatus(status)
    if resolved_at is not None:
        return S.RESOLVED
    if first_response_at is not None:
        return S.ACKNOWLEDGED
    return S.OPEN
