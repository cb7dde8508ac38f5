"""Hot reload of rule files: poll their modification times, reload off the event loop, keep the last
good rules when a new file is broken."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from llmwall_core.rules import RuleError, load_rules
from llmwall_core.scan import RuleSet

log = logging.getLogger("llmwall")


def snapshot(paths: Sequence[str]) -> dict[str, tuple[float, int]]:
    """(mtime, size) of every rule file and model file under `paths`; a change in any means reload."""
    found: dict[str, tuple[float, int]] = {}
    for raw in paths:
        path = Path(raw)
        candidates = path.rglob("*") if path.is_dir() else [path]
        for item in candidates:
            try:
                if item.is_file() and item.suffix in (".yaml", ".yml", ".json"):
                    stat = item.stat()
                    found[os.fspath(item)] = (stat.st_mtime, stat.st_size)
            except OSError:
                continue
    return found


class RuleWatcher:
    """Reloads rules when files under `paths` change, are added or removed."""

    def __init__(
        self,
        paths: Sequence[str],
        interval: float,
        on_rules: Callable[[RuleSet], None],
        on_error: Callable[[RuleError | OSError], None],
    ) -> None:
        self.paths = list(paths)
        self.interval = interval
        self.on_rules = on_rules
        self.on_error = on_error
        self.state = snapshot(self.paths)
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        if self.interval > 0 and self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run(), name="llmwall-rule-watcher")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - the watcher must survive anything
                log.exception("llmwall: rule watcher failed")

    async def check(self) -> bool:
        """Reload if anything changed; True when new rules took effect."""
        current = await asyncio.to_thread(snapshot, self.paths)
        if current == self.state:
            return False
        self.state = current
        try:
            rules = await asyncio.to_thread(load_rules, self.paths)
        except (RuleError, OSError) as exc:
            log.error("llmwall: rules NOT reloaded, the last good rules stay in force: %s", exc)
            self.on_error(exc)
            return False
        self.on_rules(rules)
        return True
