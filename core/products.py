"""Product types as the bank counts them."""

from __future__ import annotations

# Assets under management: deposits, wealth, funds and insurance held (not loans or cards). The
# scoring job reads its own list from scoring.toml (``[aum] asset_types``); the API's fallback
# before any scoring run and the synthetic bank use this one (tests/test_layers.py compares them).
ASSET_TYPES = ("CURRENT", "SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE")
