"""The access policy as data: roles, which rows, which fields and how masked, which operations.

Nothing here decides anything at run time; ``auth/enforce.py`` is the one place that reads these
tables. Tests are generated from them (tests/test_policy_matrix.py), so a change here is a change
to what the matrix asserts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from auth.masking import Mask
from graph.queries.scope import ScopeKind


class Role(StrEnum):
    CUSTOMER = "customer"
    CHANNEL_SERVICE = "channel_service"
    RELATIONSHIP_MANAGER = "relationship_manager"
    BRANCH_MANAGER = "branch_manager"
    DATA_ENGINEER = "data_engineer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class View(StrEnum):
    """A named set of field treatments for one customer row."""

    FULL = "full"  # everything as stored
    SELF = "self"  # the customer's own record: no internal scores or risk
    MASKED_CONTACT = "masked_contact"  # contact and identity masked, internal scores hidden
    PSEUDONYMISED = "pseudonymised"  # personal data masked, scores visible (engineers, auditors)


# Every field of the Customer GraphQL type (Python names). A field missing here fails a test.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "gender",
    "birth_date",
    "birth_year",
    "phone",
    "email",
    "national_id_last4",
    "address",
    "city",
    "segment",
    "status",
    "tier",
    "value_score",
    "risk_rating",
    "downgrade_risk_level",
    "churn_risk_level",
    "accounts",
    "holdings",
    "household",
    "household_membership",
    "aum",
    "value",
    "risk",
    "recommendations",
    "interactions",
    "timeline",
    "satisfaction",
    "relationship_manager",
    "relationship_manager_assignment",
    "home_branch",
    "referred_by",
    "referrals",
    "referrer",
    "referred",
    "source_records",
    "tier_history",
)
INTERNAL_SCORES = (
    "value_score",
    "risk_rating",
    "downgrade_risk_level",
    "churn_risk_level",
    "value",
    "risk",
    # the reviews' tier changes: what value.previousTier and value.tierChangedAt tell (the tier
    # itself is shown to every view)
    "tier_history",
)
# Other people linked to the customer, and the lineage of source records.
RELATIONS = ("referred_by", "referrals", "referrer", "referred")


def _view(**treatments: Mask) -> Mapping[str, Mask]:
    unknown = set(treatments) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"policy names fields the Customer type does not have: {unknown}")
    return MappingProxyType({f: treatments.get(f, Mask.CLEAR) for f in CUSTOMER_FIELDS})


_HIDE_SCORES = {name: Mask.HIDDEN for name in INTERNAL_SCORES}

# Field treatment per view; fields not named are shown as stored.
VIEWS: Mapping[View, Mapping[str, Mask]] = MappingProxyType(
    {
        View.FULL: _view(),
        View.SELF: _view(
            **_HIDE_SCORES,
            recommendations=Mask.HIDDEN,
            source_records=Mask.HIDDEN,
            satisfaction=Mask.HIDDEN,  # the bank's reading of the answers, an input to risk
            **{name: Mask.HIDDEN for name in RELATIONS},
        ),
        View.MASKED_CONTACT: _view(
            phone=Mask.PHONE,
            email=Mask.EMAIL,
            national_id_last4=Mask.LAST4,
            address=Mask.CITY,
            birth_date=Mask.YEAR,
            interactions=Mask.HIDDEN,
            timeline=Mask.HIDDEN,
            satisfaction=Mask.HIDDEN,
            source_records=Mask.HIDDEN,
            **_HIDE_SCORES,
            **{name: Mask.HIDDEN for name in RELATIONS},
        ),
        View.PSEUDONYMISED: _view(
            name=Mask.NAME,
            phone=Mask.PHONE,
            email=Mask.EMAIL,
            national_id_last4=Mask.HIDDEN,
            address=Mask.CITY,
            birth_date=Mask.YEAR,
            interactions=Mask.HIDDEN,  # free text may carry personal data
            timeline=Mask.HIDDEN,
            **{name: Mask.HIDDEN for name in RELATIONS},
        ),
    }
)


# The customer fields each view shows as stored. Only these may be ordered, filtered or searched
# by: a sort order, a filter's count or a search's hit tells the caller about a field as surely as
# showing it (a score by rank, a full name letter by letter).
SHOWN_AS_STORED: Mapping[View, frozenset[str]] = MappingProxyType(
    {
        view: frozenset(f for f, mask in treatments.items() if mask is Mask.CLEAR)
        for view, treatments in VIEWS.items()
    }
)


def _reads(**reads: str) -> Mapping[str, str]:
    unknown = set(reads.values()) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"policy names fields the Customer type does not have: {unknown}")
    return MappingProxyType(reads)


# The customer field that each sort key, filter and search mode of the customers list reads:
# sort keys as in the CustomerSort enum, filters by the Python names of the CustomerFilter input,
# search modes as resolvers/search.py classifies a term. auth/enforce.py refuses one the caller's
# view does not show as stored, and leaves out of such a list the customers reached by a referral
# hop whose view masks it. tests/test_filter_oracles.py takes its cases from the schema and fails
# on a sort key or filter missing here.
SORT_READS = _reads(
    CUSTOMER_ID="id",
    NAME="name",
    AUM="aum",
    VALUE_SCORE="value_score",
    DOWNGRADE_RISK="downgrade_risk_level",
)
FILTER_READS = _reads(
    tiers="tier",
    segments="segment",
    cities="city",
    statuses="status",
    downgrade_risk="downgrade_risk_level",
    # the branch of its relationship manager, or its home branch (graph/queries/scope.in_branch);
    # one field read: every view shows home_branch as it shows relationship_manager (a test holds it)
    branch_id="relationship_manager",
    relationship_manager_id="relationship_manager",
    unassigned="relationship_manager",  # whether the customer has one
    churn_risk="churn_risk_level",
    lifecycle_stages="value",  # Value.lifecycleStage
    tier_changed_since="value",  # Value.tierChangedAt, Customer.tierHistory
    tier_direction="value",
)
SEARCH_READS = _reads(id="id", phone="phone", name="name")


def _list_reads(**lists: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
    unknown = {f for fields in lists.values() for f in fields} - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"policy names fields the Customer type does not have: {unknown}")
    return MappingProxyType(lists)


# The fixed lists of customers and the customer fields their membership and order are made of
# (a list of the customers at churn risk, highest first, tells the churn level as surely as the
# field): refused to a role whose view does not show each of them as stored; a customer reached
# by a referral hop whose view masks one is left out (as for FILTER_READS).
LIST_READS = _list_reads(
    atRiskCustomers_DOWNGRADE=("downgrade_risk_level",),
    atRiskCustomers_CHURN=("churn_risk_level",),
    atRiskCustomers_ANY=("downgrade_risk_level", "churn_risk_level"),
    winBackCustomers=("value",),  # downgraded at a recent review: the tier history
)


@dataclass(frozen=True)
class RolePolicy:
    scope: ScopeKind  # which customers (a Cypher fragment in graph/queries/scope.py)
    view: View  # how a customer reached directly is shown
    hop_view: View = View.MASKED_CONTACT  # how a customer reached by a referral hop is shown
    requires_claims: tuple[str, ...] = field(default=())  # token claims the scope needs


ROLES: Mapping[Role, RolePolicy] = MappingProxyType(
    {
        Role.CUSTOMER: RolePolicy(ScopeKind.OWN, View.SELF, requires_claims=("customer_id",)),
        Role.CHANNEL_SERVICE: RolePolicy(ScopeKind.ANY, View.MASKED_CONTACT),
        Role.RELATIONSHIP_MANAGER: RolePolicy(
            ScopeKind.BOOK, View.FULL, View.MASKED_CONTACT, requires_claims=("employee_id",)
        ),
        Role.BRANCH_MANAGER: RolePolicy(
            ScopeKind.BRANCH, View.FULL, requires_claims=("branch_id",)
        ),
        Role.DATA_ENGINEER: RolePolicy(ScopeKind.ANY, View.PSEUDONYMISED),
        Role.AUDITOR: RolePolicy(ScopeKind.ANY, View.PSEUDONYMISED),
        Role.ADMIN: RolePolicy(ScopeKind.ANY, View.FULL),
    }
)

# A token with several roles reads rows under the first of its roles in this order (a row scope
# is one Cypher fragment, not a union). Operations are allowed if any of its roles allows them.
ROLE_PRECEDENCE: tuple[Role, ...] = (
    Role.ADMIN,
    Role.BRANCH_MANAGER,
    Role.RELATIONSHIP_MANAGER,
    Role.CHANNEL_SERVICE,
    Role.AUDITOR,
    Role.DATA_ENGINEER,
    Role.CUSTOMER,
)


class Operation(StrEnum):
    READ_CUSTOMER = "customer"
    READ_AUDIT = "auditEvents"
    READ_LOAD_RUNS = "loadRuns"
    LOG_INTERACTION = "logInteraction"
    OPEN_COMPLAINT = "openComplaint"
    ACKNOWLEDGE_COMPLAINT = "acknowledgeComplaint"
    ADD_COMPLAINT_PROGRESS = "addComplaintProgress"
    RESOLVE_COMPLAINT = "resolveComplaint"
    CLOSE_COMPLAINT = "closeComplaint"
    REOPEN_COMPLAINT = "reopenComplaint"
    RECORD_SURVEY = "recordSurvey"
    READ_COMPLAINTS = "complaints"
    READ_COMPLAINT_STATS = "complaintStats"
    ASSIGN_RELATIONSHIP_MANAGER = "assignRelationshipManager"
    READ_BRANCH_COVERAGE = "branchCoverage"
    READ_UNASSIGNED_CUSTOMERS = "unassignedCustomers"
    READ_SCHEMA = "readSchema"  # GET /graphql/schema.graphql, the SDL
    READ_IDENTITY_REVIEWS = "identityReviews"
    CONFIRM_MATCH = "confirmMatch"
    REJECT_MATCH = "rejectMatch"
    SPLIT_CUSTOMER = "splitCustomer"
    READ_ALERTS = "alerts"
    DISMISS_ALERT = "dismissAlert"
    READ_DATA_QUALITY = "dataQuality"
    READ_KPIS = "kpis"
    READ_FOLLOW_UPS_DUE = "followUpsDue"
    READ_FOLLOW_UP_COVERAGE = "followUpCoverage"


_STEWARDS = frozenset({Role.DATA_ENGINEER, Role.ADMIN})
# The service desk (issue 21). Front line (the hotline and the app, as channel_service): open,
# acknowledge, feed progress back, record surveys and contacts. Resolving, closing and reopening
# (the cause analysis) stay with the customer's managers. A branch manager acts within the
# branch's customers (its row scope). Every step is also limited by the row scope: writes only
# to customers the caller reaches directly.
_FRONT_LINE = frozenset(
    {Role.CHANNEL_SERVICE, Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN}
)
_CASE_OWNERS = frozenset({Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN})
OPERATIONS: Mapping[Operation, frozenset[Role]] = MappingProxyType(
    {
        Operation.READ_CUSTOMER: frozenset(Role),  # row scope and masking still apply
        Operation.READ_AUDIT: frozenset({Role.AUDITOR, Role.ADMIN}),
        Operation.READ_LOAD_RUNS: frozenset({Role.DATA_ENGINEER, Role.ADMIN}),
        Operation.LOG_INTERACTION: frozenset(
            {Role.CHANNEL_SERVICE, Role.RELATIONSHIP_MANAGER, Role.ADMIN}
        ),
        Operation.OPEN_COMPLAINT: _FRONT_LINE,
        Operation.ACKNOWLEDGE_COMPLAINT: _FRONT_LINE,
        Operation.ADD_COMPLAINT_PROGRESS: _FRONT_LINE,
        Operation.RESOLVE_COMPLAINT: _CASE_OWNERS,
        Operation.CLOSE_COMPLAINT: _CASE_OWNERS,
        Operation.REOPEN_COMPLAINT: _CASE_OWNERS,
        Operation.RECORD_SURVEY: _FRONT_LINE,
        # The queue (row scope and masking apply; a customer sees their own items' status and
        # the progress fed back to them) and the figures (not for customers).
        Operation.READ_COMPLAINTS: frozenset(Role),
        Operation.READ_COMPLAINT_STATS: frozenset(Role) - {Role.CUSTOMER},
        Operation.ASSIGN_RELATIONSHIP_MANAGER: frozenset({Role.BRANCH_MANAGER, Role.ADMIN}),
        # Coverage (issue 22): a branch manager their own branch's, an admin any branch's (and
        # the whole bank's unassigned customers); an auditor reads the figures, not the list.
        Operation.READ_BRANCH_COVERAGE: frozenset({Role.BRANCH_MANAGER, Role.ADMIN, Role.AUDITOR}),
        Operation.READ_UNASSIGNED_CUSTOMERS: frozenset({Role.BRANCH_MANAGER, Role.ADMIN}),
        # The channels' teams (their service accounts) and the people who run the platform.
        Operation.READ_SCHEMA: frozenset({Role.CHANNEL_SERVICE, Role.DATA_ENGINEER, Role.ADMIN}),
        # Data stewards: the identity review queue and its decisions (merge, keep apart, unmerge).
        Operation.READ_IDENTITY_REVIEWS: _STEWARDS,
        Operation.CONFIRM_MATCH: _STEWARDS,
        Operation.REJECT_MATCH: _STEWARDS,
        Operation.SPLIT_CUSTOMER: _STEWARDS,
        # The relationship manager's alerts (issue 22): for those who look after customers, each
        # over their row scope (customers reached directly); a dismissal is the caller's own.
        Operation.READ_ALERTS: _CASE_OWNERS,
        Operation.DISMISS_ALERT: _CASE_OWNERS,
        # Completeness, the review backlog and refusals: counts only, no customer in them.
        Operation.READ_DATA_QUALITY: frozenset({Role.DATA_ENGINEER, Role.AUDITOR, Role.ADMIN}),
        # The service targets: an RM their own book, a branch manager their branch, admins and
        # auditors any scope (resolvers/kpis.py narrows the scope by role).
        Operation.READ_KPIS: frozenset(
            {Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.AUDITOR, Role.ADMIN}
        ),
        # Follow-up plans (issue 22): the due list is the work of the people who serve the
        # customers (an RM their book, a branch manager the branch, admins all); coverage is a
        # figure without personal data, also for auditors (a branch manager: their branch).
        Operation.READ_FOLLOW_UPS_DUE: frozenset(
            {Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN}
        ),
        Operation.READ_FOLLOW_UP_COVERAGE: frozenset(
            {Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.AUDITOR, Role.ADMIN}
        ),
    }
)
