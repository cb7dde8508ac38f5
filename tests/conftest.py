import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "addons"))
sys.path.insert(0, str(ROOT))


import pytest  # noqa: E402  (after the sys.path set-up above)


@pytest.fixture(scope="session")
def rules():
    """The default rules of rules/, loaded once per test session (about a second each time otherwise). A test
    module that needs other rules defines its own `rules` fixture, which takes precedence."""
    from llmwall_core.rules import load_rules

    return load_rules([str(ROOT / "rules")])
