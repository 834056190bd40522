"""The graph model declared once: the nodes with a key, and the stored fields of a Customer.

Everything else is derived from these declarations:

- :data:`NODES` → the uniqueness constraints (graph/migrate.py), the key lookups of the loader
  (graph/queries/loads.existing_keys) and the node each upsert merges on (graph/queries/upserts.py);
- :data:`CUSTOMER_FIELDS` → the columns of the customers entity and the fields the loader keeps
  (etl/entities.py, etl/loader.py), the golden record's fields (etl/identity.py), the fields a
  SourceRecord keeps (etl/records.py) and the fields the customer query returns
  (graph/queries/customers.py).

tests/test_field_declarations.py checks the declaration against what the loader, identity
resolution, the scoring job, the GraphQL schema and the access policy do with each field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Node:
    """A label whose nodes are unique by ``key``, enforced by the constraint ``constraint``."""

    label: str
    key: tuple[str, ...]
    constraint: str


CUSTOMER = Node("Customer", ("customer_id",), "customer_id")
SOURCE_RECORD = Node("SourceRecord", ("system", "source_id"), "source_record_key")
ACCOUNT = Node("Account", ("account_id",), "account_id")
PRODUCT = Node("Product", ("product_code",), "product_code")
HOUSEHOLD = Node("Household", ("household_id",), "household_id")
INTERACTION = Node("Interaction", ("interaction_id",), "interaction_id")
EMPLOYEE = Node("Employee", ("employee_id",), "employee_id")
BRANCH = Node("Branch", ("branch_id",), "branch_id")
LOAD_RUN = Node("LoadRun", ("run_id",), "load_run_id")
AUDIT_EVENT = Node("AuditEvent", ("event_id",), "audit_event_id")
IDEMPOTENCY_KEY = Node("IdempotencyKey", ("key_id",), "idempotency_key_id")
TIER_CHANGE = Node("TierChange", ("change_id",), "tier_change_id")
CONSOLE_SESSION = Node("ConsoleSession", ("key",), "console_session_key")
CONSOLE_LOGIN = Node("ConsoleLogin", ("key",), "console_login_key")
# An exchange rate: units of the reporting currency for one unit of ``currency`` on ``rate_date``.
FX_RATE = Node("FxRate", ("currency", "rate_date"), "fx_rate_key")
# A pair of source records a linkage run could not decide (graph/queries/identity.py); review_id
# is derived from the pair's keys.
IDENTITY_REVIEW = Node("IdentityReview", ("review_id",), "identity_review_id")
# A persisted operation registered ahead of time (`c360 documents register`); id = SHA-256 of body.
TRUSTED_DOCUMENT = Node("TrustedDocument", ("id",), "trusted_document_id")
# One caller's dismissal of one alert (graph/queries/alerts.DISMISS merges on both).
ALERT_DISMISSAL = Node("AlertDismissal", ("alert_id", "subject"), "alert_dismissal_key")
# The management KPIs' counts per period written after a scoring run (scoring/kpi_snapshots.py):
# one run's set, and one node per group of customers and period in it.
KPI_SNAPSHOT_RUN = Node("KpiSnapshotRun", ("run_id",), "kpi_snapshot_run_id")
KPI_SNAPSHOT = Node("KpiSnapshot", ("snapshot_id",), "kpi_snapshot_id")
# One product the scoring job recommended to one customer (graph/queries/scoring.py
# WRITE_RECOMMENDATIONS merges on both): the history behind RECOMMENDATION_CONVERSION_PCT.
RECOMMENDATION = Node("Recommendation", ("customer_id", "product_code"), "recommendation_key")

# Every label with a key, in the order the migration creates their constraints.
NODES: tuple[Node, ...] = (
    CUSTOMER, SOURCE_RECORD, ACCOUNT, PRODUCT, HOUSEHOLD, INTERACTION, EMPLOYEE, BRANCH, LOAD_RUN,
    AUDIT_EVENT, IDEMPOTENCY_KEY, TIER_CHANGE, CONSOLE_SESSION, CONSOLE_LOGIN, TRUSTED_DOCUMENT,
    FX_RATE, IDENTITY_REVIEW, ALERT_DISMISSAL, KPI_SNAPSHOT_RUN, KPI_SNAPSHOT, RECOMMENDATION,
)  # fmt: skip

FieldType = Literal["str", "int", "float", "date", "datetime"]


@dataclass(frozen=True)
class CustomerField:
    """One property of the Customer node besides its key.

    ``name``: the property (snake_case; the GraphQL field is its camelCase).
    ``type``: what the value is (a loaded field's extract column is parsed to it).
    ``written_by``: ``load`` (the ETL, from the source systems) or ``scoring`` (the scoring job).
    ``column``: for a loaded field, the canonical column of the customers entity it comes from
    (a mapping in etl/mappings/*.yaml renames a system's column to it); the field's own name
    unless it is derived from another column (the national ID's hash and last four characters).
    ``golden``: a loaded field chosen among the person's source records by survivorship
    (etl/identity.py); ``False`` for one the golden record computes otherwise (``updated_at``:
    the latest of the records).
    ``shown``: returned by the customer query and a field of the GraphQL ``Customer`` type (with
    an entry in the access policy); ``False`` for a field only jobs and lookups use.
    """

    name: str
    type: FieldType = "str"
    written_by: Literal["load", "scoring"] = "load"
    column: str | None = None
    golden: bool = True
    shown: bool = True

    @property
    def source_column(self) -> str:
        """The canonical column a loaded field comes from."""
        return self.column or self.name

    @property
    def copied(self) -> bool:
        """A loaded field taken as the source system has it (not derived from another column)."""
        return self.written_by == "load" and self.source_column == self.name


def _scored(name: str, type_: FieldType = "str") -> CustomerField:
    return CustomerField(name, type_, written_by="scoring", golden=False)


# The stored fields of a Customer, in the order the loader and the customer query list them.
CUSTOMER_FIELDS: tuple[CustomerField, ...] = (
    CustomerField("name"),
    CustomerField("gender"),
    CustomerField("birth_date", "date"),
    CustomerField("national_id_hash", column="national_id", shown=False),  # peppered hash
    CustomerField("national_id_last4", column="national_id"),
    # what kind of ID the hash is of, and who issued it (etl/normalise.ID_TYPES); null with no ID
    CustomerField("national_id_type", shown=False),
    CustomerField("national_id_country", shown=False),  # ISO 3166 alpha-2
    CustomerField("phone"),  # E.164: +8613812345678
    CustomerField("email"),
    CustomerField("address"),
    CustomerField("city"),
    CustomerField("occupation", shown=False),
    CustomerField("segment"),
    CustomerField("kyc_status", shown=False),
    CustomerField("risk_rating"),
    CustomerField("onboarded_at", "date", shown=False),
    CustomerField("status"),
    CustomerField("updated_at", "datetime", golden=False, shown=False),
    _scored("tier"),
    _scored("value_score", "float"),
    _scored("downgrade_risk_level"),
    _scored("churn_risk_level"),
    _scored("aum", "float"),
)
LOADED_CUSTOMER_FIELDS = tuple(f for f in CUSTOMER_FIELDS if f.written_by == "load")
GOLDEN_CUSTOMER_FIELDS = tuple(f.name for f in LOADED_CUSTOMER_FIELDS if f.golden)
SHOWN_CUSTOMER_FIELDS = tuple(f.name for f in CUSTOMER_FIELDS if f.shown)
