"""Product types as the bank counts them, and which of them may hold a negative balance."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from core.settings import PROJECT_ROOT

PRODUCT_TYPES = (
    "CURRENT", "SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE", "LOAN", "MORTGAGE",
    "CREDIT_CARD",
)  # fmt: skip

# Assets under management: deposits, wealth, funds and insurance held (not loans or cards). The
# scoring job reads its own list from scoring.toml (``[aum] asset_types``); the API's fallback
# before any scoring run and the synthetic bank use this one (tests/test_layers.py compares them).
ASSET_TYPES = ("CURRENT", "SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE")

# The bank's money rules live with its other thresholds in the scoring configuration; the ETL
# (which may not import the scoring package) reads the same file's ``[money]`` section here. It
# is always this file, scoring/scoring.toml: ``c360 score --config FILE`` overrides the scoring
# job's settings only, never what the loader accepted (the rule belongs to the data's shape, not
# to one scoring run; to change it, edit this file and reload).
MONEY_CONFIG = PROJECT_ROOT / "scoring" / "scoring.toml"


@cache
def negative_allowed(path: Path = MONEY_CONFIG) -> frozenset[str]:
    """The product types whose balance may be below zero (an overdrawn current account, a card
    in credit): ``[money] negative_allowed``. Any other type's negative balance is refused as
    ``negative_amount`` by validation. A type that is not a product type is a config error."""
    types = tomllib.loads(Path(path).read_text(encoding="utf-8"))["money"]["negative_allowed"]
    unknown = sorted(set(types) - set(PRODUCT_TYPES))
    if unknown:
        raise ValueError(
            f"{path}: [money] negative_allowed names unknown product types {unknown} "
            f"(known: {', '.join(PRODUCT_TYPES)})"
        )
    return frozenset(types)
