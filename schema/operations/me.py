from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry

from resolvers import operations as resolve
from schema.context import Info
from schema.operations.quality import ReasonCount, reason_counts
from schema.pagination import PageInfo
from schema.scalars import to_datetime


@strawberry.type(description="The caller as the API sees them.")
class Me:
    subject: str
    roles: list[str]
    employee_id: str | None
    customer_id: str | None
    branch_id: str | None
    scope: str = strawberry.field(description="Which customers you reach: any, own, book or branch")


@strawberry.type(description="Rows read, loaded and rejected for one entity of a load run.")
class EntityCount:
    entity: str
    read: int
    loaded: int = strawberry.field(description="Rows written (a delta load writes changed rows)")
    rejected: int
    unchanged: int = strawberry.field(
        description="Rows a delta load found unchanged (same content hash) and did not write"
    )


@strawberry.type(description="One run of the loader.")
class LoadRun:
    id: strawberry.ID
    job: str | None
    source: str | None
    status: str | None
    delta: bool = strawberry.field(
        description="A delta load: after a successful one, only the rows whose content changed "
        "were written (`c360 load --full` writes every row)"
    )
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    counts: list[EntityCount]
    rejects_by_reason: list[ReasonCount] = strawberry.field(
        description="Rows refused by reason, most first (empty for runs before 2026-12)"
    )
    warnings_by_reason: list[ReasonCount] = strawberry.field(
        description="Rows loaded with a value set aside, by reason"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LoadRun:
        counts = json.loads(row.get("counts_json") or "{}")
        return cls(
            rejects_by_reason=reason_counts(json.loads(row.get("rejects_by_reason_json") or "{}")),
            warnings_by_reason=reason_counts(
                json.loads(row.get("warnings_by_reason_json") or "{}")
            ),
            id=strawberry.ID(row["run_id"]),
            job=row.get("job"),
            source=row.get("source"),
            status=row.get("status"),
            delta=bool(row.get("delta")),
            started_at=to_datetime(row.get("started_at")),
            finished_at=to_datetime(row.get("finished_at")),
            counts=[
                EntityCount(
                    entity=name,
                    read=int(c.get("read", 0)),
                    loaded=int(c.get("loaded", 0)),
                    rejected=int(c.get("rejected", 0)),
                    unchanged=int(c.get("unchanged", 0)),
                )
                for name, c in sorted(counts.items())
                if isinstance(c, dict)
            ],
        )


@strawberry.type
class LoadRunEdge:
    cursor: str
    node: LoadRun


@strawberry.type(description="A page of load runs, newest first (Relay connection).")
class LoadRunConnection:
    edges: list[LoadRunEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The runs of this page (the edges' nodes)")
    def nodes(self) -> list[LoadRun]:
        return [e.node for e in self.edges]


@strawberry.type
class MeQuery:
    @strawberry.field(description="Your identity, roles and scope.")
    def me(self, info: Info) -> Me:
        return Me(**resolve.me(info.context))

    @strawberry.field(
        description="Loader runs, newest first (data engineers and admins).",
        deprecation_reason="Select loadRunsConnection: the same runs as a Relay connection "
        "(edges, nodes, pageInfo, totalCount) with cursors, like every other list.",
    )
    async def load_runs(self, info: Info, first: int | None = 20) -> list[LoadRun]:
        return [LoadRun.from_row(r) for r in await resolve.load_runs(info.context, first=first)]

    @strawberry.field(
        description="Loader runs, newest first (data engineers and admins). Pages of at most "
        "100; pass `pageInfo.endCursor` as `after`."
    )
    async def load_runs_connection(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> LoadRunConnection:
        page = await resolve.load_runs_page(info.context, first=first, after=after)
        edges = [
            LoadRunEdge(cursor=c, node=LoadRun.from_row(r))
            for r, c in zip(page["runs"], page["cursors"], strict=True)
        ]
        return LoadRunConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page["has_next"], end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page["total"],
        )
