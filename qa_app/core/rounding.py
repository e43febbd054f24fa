"""One rounding rule for every percentage shown: the pages, the exports and the JSON API (pure module).

Half up, on the decimal the value stands for: 57.25 → 57.3 (Python's round() and Babel's formatting round half
to even, 57.2, and binary floats make round(83.285, 2) give 83.28). A ratio of two counts becomes a float whose
shortest repr is the exact decimal whenever that decimal is short, so rounding repr() half up is exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Decimals of a percentage on the pages (75,5 %) and therefore in the exports and the API.
PERCENT_DIGITS = 1


def round_half_up(value: float, digits: int = PERCENT_DIGITS) -> float:
    """``value`` rounded half up to ``digits`` decimals."""
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
