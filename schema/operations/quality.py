from __future__ import annotations

import strawberry

from resolvers import quality as resolve
from resolvers.quality import QualityReport
from schema.context import Info


@strawberry.type(description="A source system's share of records holding the field.")
class SourceCompleteness:
    system: str
    completeness: float = strawberry.field(description="0-1")


@strawberry.type(description="How often a customer field holds a value.")
class FieldCompleteness:
    entity: str = strawberry.field(description="Customer (the golden record)")
    name: str = strawberry.field(description="The field, as mappings name it (e.g. email)")
    completeness: float | None = strawberry.field(
        description="Share (0-1) of golden customers holding a value; null without customers"
    )
    met: bool | None = strawberry.field(description="Whether completeness reaches the target")
    by_source: list[SourceCompleteness] = strawberry.field(
        description="The same share among each source system's records"
    )


@strawberry.type(description="The identity backlog and the newest load's merges.")
class IdentityQuality:
    review_pairs: int = strawberry.field(description="Uncertain pairs waiting for a steward")
    merged_last_load: int = strawberry.field(
        description="Source records the newest finished load resolved onto a customer together "
        "with another record (by national ID or by the probabilistic model)"
    )


@strawberry.type(description="Rows refused (or loaded with a value set aside) for one reason.")
class ReasonCount:
    code: str = strawberry.field(description="The reason code, as in the rejects files")
    rows: int


@strawberry.type(
    description="Customer data quality against the bank's standard (completeness >= 98 %), "
    "as of now; fields and target in core/quality.toml."
)
class DataQuality:
    target: float = strawberry.field(description="The completeness target (0-1)")
    customers: int
    completeness: float | None = strawberry.field(
        description="Mean completeness of the listed fields over golden customers"
    )
    met: bool | None
    fields: list[FieldCompleteness]
    identity: IdentityQuality
    last_load_run: str | None = strawberry.field(description="The load the refusals come from")
    rejects_by_reason: list[ReasonCount] = strawberry.field(
        description="The newest finished load's refused rows by reason, most first"
    )
    warnings_by_reason: list[ReasonCount] = strawberry.field(
        description="Rows it loaded with a value set aside, by reason"
    )

    @classmethod
    def from_report(cls, r: QualityReport) -> DataQuality:
        def met(share: float | None) -> bool | None:
            return None if share is None else share >= r.target

        return cls(
            target=r.target,
            customers=r.customers,
            completeness=r.overall,
            met=met(r.overall),
            fields=[
                FieldCompleteness(
                    entity="Customer",
                    name=f.name,
                    completeness=f.completeness,
                    met=met(f.completeness),
                    by_source=[
                        SourceCompleteness(system=k, completeness=v) for k, v in f.by_source.items()
                    ],
                )
                for f in r.fields
            ],
            identity=IdentityQuality(
                review_pairs=r.review_pairs, merged_last_load=r.merged_last_load
            ),
            last_load_run=r.last_load_run,
            rejects_by_reason=reason_counts(r.rejects_by_reason),
            warnings_by_reason=reason_counts(r.warnings_by_reason),
        )


def reason_counts(counts: dict[str, int]) -> list[ReasonCount]:
    return [
        ReasonCount(code=k, rows=int(v))
        for k, v in sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    ]


@strawberry.type
class DataQualityQuery:
    @strawberry.field(
        description="Customer data completeness per field and source, the identity review "
        "backlog and the newest load's refusals (data engineers, auditors, admins)."
    )
    async def data_quality(self, info: Info) -> DataQuality:
        return DataQuality.from_report(await resolve.data_quality(info.context))
