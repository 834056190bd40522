"""The rich summary a load prints at its end."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from etl.loader import LoadResult


def load_summary(result: LoadResult) -> Group:
    table = Table(title=f"Load run {result.run_id}: {result.status}", title_justify="left")
    for name in ("entity", "read", "loaded", "rejected", "seconds", "rows/s"):
        table.add_column(name, justify="left" if name == "entity" else "right")
    for entity, c in result.counts.items():
        table.add_row(
            entity,
            f"{c.read:,}",
            f"{c.loaded:,}",
            f"{c.rejected:,}",
            f"{c.seconds:.1f}",
            f"{c.rate:,.0f}",
        )
    total_read = sum(c.read for c in result.counts.values())
    table.add_row(
        "total",
        f"{total_read:,}",
        f"{sum(c.loaded for c in result.counts.values()):,}",
        f"{sum(c.rejected for c in result.counts.values()):,}",
        f"{result.seconds:.1f}",
        f"{total_read / result.seconds if result.seconds else 0:,.0f}",
        style="bold",
    )
    reasons = Table(title="Rejects by reason", title_justify="left")
    reasons.add_column("reason_code")
    reasons.add_column("rows", justify="right")
    for code, n in result.by_reason.items():
        reasons.add_row(code, f"{n:,}")
    parts: list = [table]
    if result.by_reason:
        parts.append(reasons)
    notes = [
        f"rejects: {result.rejects_dir}",
        f"identity pairs for review: {result.review} (er_review.csv there)",
        f"batches written {result.batches_written}, skipped (already done) {result.batches_skipped}"
        + (" — resumed run" if result.resumed else ""),
        f"exit code {result.exit_code}",
    ]
    return Group(*parts, *notes)
