"""Token buckets per client identity (state per llmwall instance)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    per_seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.per_seconds


def parse_rate(text: str) -> Rate:
    """`120/m`, `10/s`, `1000/h`. Raises ValueError."""
    count, sep, unit = text.strip().partition("/")
    if not sep or not count.strip().isdigit() or int(count) <= 0 or unit.strip() not in UNITS:
        raise ValueError(f"{text!r}: expected COUNT/UNIT such as 120/m, 10/s or 1000/h")
    return Rate(int(count), UNITS[unit.strip()])


class RateLimiter:
    """Allows `rate.count` requests per window per key, refilling continuously; burst = count."""

    def __init__(self, rate: Rate, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last time)

    def take(self, key: str) -> float:
        """0 when allowed (a token is taken), else the seconds until the next token."""
        now = self.clock()
        tokens, last = self.buckets.pop(key, (float(self.rate.count), now))
        tokens = min(float(self.rate.count), tokens + (now - last) * self.rate.per_second)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self.buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate.per_second
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
