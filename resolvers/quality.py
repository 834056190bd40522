"""Data quality for data engineers: completeness, the identity backlog and the load's refusals."""

from __future__ import annotations

from auth import enforce
from auth.policy import Operation
from core.quality import quality_config
from graph.queries import quality as q
from graph.queries.quality import QualityReport
from graph.session import one_row
from resolvers.context import Context


async def data_quality(ctx: Context) -> QualityReport:
    """One read (graph/queries/quality.py), whatever the number of fields and systems."""
    enforce.require(ctx.principal, Operation.READ_DATA_QUALITY)
    cfg = quality_config()
    row = await ctx.read(one_row, query=q.DATA_QUALITY, params=q.parameters(cfg))
    return q.report(row, cfg)
