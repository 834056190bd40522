"""The rich summary a load prints at its end."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from etl.loader import LoadResult


def load_summary(result: LoadResult) -> Group:
    table = Table(title=f"Load run {result.run_id}: {result.status}", title_justify="left")
    names = ("entity", "read", "loaded", "rejected", *(("unchanged",) * result.delta))
    for name in (*names, "seconds", "rows/s"):
        table.add_column(name, justify="left" if name == "entity" else "right")
    unchanged = (lambda c: (f"{c.unchanged:,}",)) if result.delta else (lambda c: ())
    for entity, c in result.counts.items():
        table.add_row(
            entity,
            f"{c.read:,}",
            f"{c.loaded:,}",
            f"{c.rejected:,}",
            *unchanged(c),
            f"{c.seconds:.1f}",
            f"{c.rate:,.0f}",
        )
    total_read = sum(c.read for c in result.counts.values())
    table.add_row(
        "total",
        f"{total_read:,}",
        f"{sum(c.loaded for c in result.counts.values()):,}",
        f"{sum(c.rejected for c in result.counts.values()):,}",
        *((f"{sum(c.unchanged for c in result.counts.values()):,}",) * result.delta),
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
        (
            f"delta load: {result.rows_written:,} rows written (golden customers "
            f"{result.golden.loaded:,} written, {result.golden.unchanged:,} unchanged); "
            "`c360 load --full` writes every row"
            if result.delta
            else f"full load: {result.rows_written:,} rows written"
        ),
        f"exit code {result.exit_code}",
    ]
    return Group(*parts, *notes)
