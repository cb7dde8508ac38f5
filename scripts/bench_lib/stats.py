"""Medians and percentiles without numpy."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    if not values:
        return math.nan
    s = sorted(values)
    if len(s) == 1:
        return float(s[0])
    k = (len(s) - 1) * q / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (k - lo))


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": float(statistics.median(values)) if values else math.nan, "p99": pct(values, 99),
            "min": float(min(values)) if values else math.nan, "n": len(values)}
