"""Complaint service levels: first response and resolution times against configured targets.

The one definition of a tracked item's service level (complaints, suggestions and questions);
the queue's Cypher (graph/queries/complaints.py) computes the same thing for many rows at once
and tests/test_service_desk.py holds the two to the same hand-built cases (tests/desk_bank.py:
the queue's levels against the timeline's, computed here, and against the expected ones).

- The **first response** is the acknowledgement (``acknowledgeComplaint``). Resolving an item
  nobody acknowledged counts the resolution as the response (the customer got an answer then).
- ``responseDueAt`` = opened + ``SLA_FIRST_RESPONSE_HOURS``; ``resolutionDueAt`` = opened +
  ``SLA_MAJOR_RESOLUTION_HOURS`` for MAJOR, else ``SLA_RESOLUTION_HOURS`` (0: no per-item target).
- Open items: RESOLUTION_BREACHED past the resolution due time, else RESPONSE_BREACHED when the
  response came late or has not come by its due time, else AT_RISK when at least
  ``SLA_AT_RISK_RATIO`` (80 %) of the time to a due time still ahead is used, else ON_TRACK.
- Resolved items: MET when the response and the resolution were both in time, else BREACHED.
- A reopened item is open again; its clocks still run from the time it was first opened, and
  its first response stays (for an item resolved unanswered: that resolution).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.settings import Settings


class SlaStatus(StrEnum):
    ON_TRACK = "ON_TRACK"  # open, both targets still ahead and under 80 % used
    AT_RISK = "AT_RISK"  # open, >= 80 % of the time to a due time still ahead is used
    RESPONSE_BREACHED = "RESPONSE_BREACHED"  # open, no first response in time
    RESOLUTION_BREACHED = "RESOLUTION_BREACHED"  # open past its resolution target
    MET = "MET"  # resolved, both targets met
    BREACHED = "BREACHED"  # resolved, a target missed


# A queue filter `slaStatus: BREACHED` means any of these.
BREACHES = (SlaStatus.BREACHED, SlaStatus.RESPONSE_BREACHED, SlaStatus.RESOLUTION_BREACHED)


@dataclass(frozen=True)
class SlaTargets:
    """Defaults: first response within 24 h; resolution within 12 h, 4 h for MAJOR complaints;
    AT_RISK from 80 % of a target's time used. ``resolution`` of zero: no per-item target."""

    first_response: dt.timedelta = dt.timedelta(hours=24)
    resolution: dt.timedelta = dt.timedelta(hours=12)
    major_resolution: dt.timedelta = dt.timedelta(hours=4)
    at_risk_ratio: float = 0.8

    @classmethod
    def of(cls, settings: Settings) -> SlaTargets:
        """The targets configured for this deployment (SLA_* settings)."""
        return cls(
            first_response=dt.timedelta(hours=settings.sla_first_response_hours),
            resolution=dt.timedelta(hours=settings.sla_resolution_hours),
            major_resolution=dt.timedelta(hours=settings.sla_major_resolution_hours),
            at_risk_ratio=settings.sla_at_risk_ratio,
        )

    def resolution_for(self, severity: str | None) -> dt.timedelta | None:
        target = self.major_resolution if severity == "MAJOR" else self.resolution
        return target if target > dt.timedelta(0) else None


@dataclass(frozen=True)
class SlaClock:
    response_due: dt.datetime
    resolution_due: dt.datetime | None
    responded_at: dt.datetime | None  # the acknowledgement, else the resolution
    status: SlaStatus


def sla_clock(
    *,
    opened_at: dt.datetime,
    severity: str | None,
    first_response_at: dt.datetime | None,
    resolved_at: dt.datetime | None,
    now: dt.datetime,
    targets: SlaTargets,
) -> SlaClock:
    """Due times and status of one item (``resolved_at`` None: still open)."""
    response_due = opened_at + targets.first_response
    resolution_target = targets.resolution_for(severity)
    resolution_due = None if resolution_target is None else opened_at + resolution_target
    responded = first_response_at or resolved_at  # resolving is also answering

    def clock(status: SlaStatus) -> SlaClock:
        return SlaClock(response_due, resolution_due, responded, status)

    if resolved_at is not None:
        ok = responded is not None and responded <= response_due
        ok = ok and (resolution_due is None or resolved_at <= resolution_due)
        return clock(SlaStatus.MET if ok else SlaStatus.BREACHED)
    if resolution_due is not None and now > resolution_due:
        return clock(SlaStatus.RESOLUTION_BREACHED)
    if (responded is None and now > response_due) or (
        responded is not None and responded > response_due
    ):
        return clock(SlaStatus.RESPONSE_BREACHED)
    used = now - opened_at
    if responded is None and used >= targets.first_response * targets.at_risk_ratio:
        return clock(SlaStatus.AT_RISK)
    if resolution_target is not None and used >= resolution_target * targets.at_risk_ratio:
        return clock(SlaStatus.AT_RISK)
    return clock(SlaStatus.ON_TRACK)


def sla_status(
    *,
    opened_at: dt.datetime,
    severity: str | None,
    first_response_at: dt.datetime | None,
    resolved_at: dt.datetime | None,
    now: dt.datetime,
    targets: SlaTargets,
) -> SlaStatus:
    return sla_clock(
        opened_at=opened_at,
        severity=severity,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        now=now,
        targets=targets,
    ).status


def sla_params(settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """The targets of graph/queries/complaints.SLA (and of the KPIs' service levels), in seconds, and the instant it judges at."""
    return {
        "now": now,
        "response_s": int(settings.sla_first_response_hours * 3600),
        "resolution_s": int(settings.sla_resolution_hours * 3600),
        "major_s": int(settings.sla_major_resolution_hours * 3600),
        "risk": float(settings.sla_at_risk_ratio),
    }
