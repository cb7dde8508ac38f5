"""The audit writer survives log rotation and never blocks its caller."""

import json
import os

from llmwall_addon.audit import AuditWriter


def test_reopens_after_rotation(tmp_path):
    path = tmp_path / "audit.jsonl"
    writer = AuditWriter(str(path))
    writer.write({"n": 1})
    writer.flush()
    os.rename(path, tmp_path / "audit.jsonl.1")  # what logrotate does
    writer.write({"n": 2})
    writer.flush()
    writer.close()
    assert [json.loads(line)["n"] for line in (tmp_path / "audit.jsonl.1").read_text().splitlines()] == [1]
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == [2]


def test_full_queue_drops_and_counts_instead_of_blocking(tmp_path):
    writer = AuditWriter(str(tmp_path / "a.jsonl"), max_queue=1)
    for n in range(2000):
        writer.write({"n": n})
    writer.close()
    written = len((tmp_path / "a.jsonl").read_text().splitlines())
    assert writer.dropped + written == 2000
