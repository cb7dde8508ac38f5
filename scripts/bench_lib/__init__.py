"""Helpers of scripts/bench.py: payloads, the measuring client, in-process measurements."""
