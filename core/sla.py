"""Complaint service levels: first response and resolution times against configured targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from core.settings import Settings


class SlaStatus(StrEnum):
    ON_TRACK = "ON_TRACK"  # open, both targets still ahead
    RESPONSE_BREACHED = "RESPONSE_BREACHED"  # open, no first response in time
    RESOLUTION_BREACHED = "RESOLUTION_BREACHED"  # open past its resolution target
    MET = "MET"  # resolved, both targets met
    BREACHED = "BREACHED"  # resolved, a target missed


@dataclass(frozen=True)
class SlaTargets:
    """Defaults: first response within 24 h; resolution within 12 h, 4 h for MAJOR complaints."""

    first_response: dt.timedelta = dt.timedelta(hours=24)
    resolution: dt.timedelta = dt.timedelta(hours=12)
    major_resolution: dt.timedelta = dt.timedelta(hours=4)

    @classmethod
    def of(cls, settings: Settings) -> SlaTargets:
        """The targets configured for this deployment (SLA_* settings)."""
        return cls(
            first_response=dt.timedelta(hours=settings.sla_first_response_hours),
            resolution=dt.timedelta(hours=settings.sla_resolution_hours),
            major_resolution=dt.timedelta(hours=settings.sla_major_resolution_hours),
        )

    def resolution_for(self, severity: str | None) -> dt.timedelta:
        return self.major_resolution if severity == "MAJOR" else self.resolution


def sla_status(
    *,
    opened_at: dt.datetime,
    severity: str | None,
    first_response_at: dt.datetime | None,
    resolved_at: dt.datetime | None,
    now: dt.datetime,
    targets: SlaTargets,
) -> SlaStatus:
    response_due = opened_at + targets.first_response
    resolution_due = opened_at + targets.resolution_for(severity)
    responded = first_response_at or resolved_at  # resolving is also answering
    if resolved_at is not None:
        ok = responded is not None and responded <= response_due and resolved_at <= resolution_due
        return SlaStatus.MET if ok else SlaStatus.BREACHED
    if now > resolution_due:
        return SlaStatus.RESOLUTION_BREACHED
    if (responded is None and now > response_due) or (
        responded is not None and responded > response_due
    ):
        return SlaStatus.RESPONSE_BREACHED
    return SlaStatus.ON_TRACK
