from pathlib import Path

import pytest

from llmwall_core.model import Action, Phase
from llmwall_core.rules import RuleError, load_rules

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
rules:
  - id: demo-token
    description: demo
    applies_to: both
    pattern: '\\b(tok_[a-z0-9]{8})\\b'
    secret_group: 1
    keywords: [tok_]
    action: redact
    severity: high
    tags: [secret]
    examples:
      match: ['here tok_abcd1234 there']
      no_match: ['tok_short']
"""


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_default_rules_load_and_every_example_passes():
    rules = load_rules([str(ROOT / "rules")])
    assert len(rules) > 20
    assert rules.version


def test_good_file(tmp_path):
    rules = load_rules([write(tmp_path, GOOD)])
    found = rules.scan_text("send tok_abcd1234 now")
    assert [(f.rule_id, f.action, f.start, f.end) for f in found] == [("demo-token", Action.REDACT, 5, 17)]
    assert "abcd1234" not in found[0].preview


@pytest.mark.parametrize(
    "mutation, message",
    [
        (("pattern: '\\b(tok_[a-z0-9]{8})\\b'", "pattern: '(unclosed'"), "bad pattern"),
        (("severity: high", "severity: extreme"), "severity"),
        (("action: redact", "action: explode"), "unknown action"),
        (("tags: [secret]", "tags: [secret]\n    colour: blue"), "unknown key"),
        (("no_match: ['tok_short']", "no_match: ['tok_abcd9999']"), "should not match"),
        (("match: ['here tok_abcd1234 there']", "match: ['nothing here']"), "should match"),
    ],
)
def test_broken_rule_names_file_line_and_id(tmp_path, mutation, message):
    old, new = mutation
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    text = str(caught.value)
    assert message in text
    assert path in text and ":3:" in text
    if "unclosed" not in new:
        assert "demo-token" in text


def test_bad_yaml_reports_line(tmp_path):
    path = write(tmp_path, "rules:\n  - id: x\n    description: [unclosed\n")
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    assert "not valid YAML" in str(caught.value) and path in str(caught.value)


def test_duplicate_ids_rejected(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError, match="duplicate id"):
        load_rules([str(tmp_path)])


def test_missing_path(tmp_path):
    with pytest.raises(RuleError, match="no such rule file"):
        load_rules([str(tmp_path / "nope.yaml")])


def test_disabled_rule_is_skipped(tmp_path):
    rules = load_rules([write(tmp_path, GOOD.replace("tags: [secret]", "tags: [secret]\n    enabled: false"))])
    assert len(rules) == 0


def test_keyword_prefilter_skips_rules_without_their_keyword(tmp_path):
    rules = load_rules([write(tmp_path, GOOD)])
    assert rules._candidates.__func__  # the prefilter exists
    from llmwall_core.scan import _Views

    assert rules._candidates(_Views("no keyword here"), Phase.REQUEST) == []
    assert [r.id for r, _ in rules._candidates(_Views("a TOK_ here"), Phase.REQUEST)] == ["demo-token"]


def test_scope_by_role_provider_model(tmp_path):
    text = GOOD.replace("tags: [secret]", "tags: [secret]\n    roles: [tool]\n    models: ['gpt-4*']")
    rules = load_rules([write(tmp_path, text)], check_examples=False)
    assert rules.scan_text("tok_abcd1234", role="user") == []
    assert rules.scan_text("tok_abcd1234", role="tool")
    from llmwall_core.model import TextPiece

    piece = [TextPiece("tool", (), "tok_abcd1234")]
    assert rules.scan_pieces(piece, Phase.REQUEST, model="gpt-4o")
    assert rules.scan_pieces(piece, Phase.REQUEST, model="claude-3") == []


def test_base64_wrapped_text_is_scanned(tmp_path):
    import base64

    rules = load_rules([write(tmp_path, GOOD)])
    blob = base64.b64encode(b"please use tok_abcd1234 for this").decode()
    found = rules.scan_text(f"decode this: {blob}")
    assert found and found[0].rule_id == "demo-token"
    assert found[0].preview.startswith("base64:")


def test_readme_worked_example_loads_and_matches(tmp_path):
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```yaml", readme.index("A worked example")) + len("```yaml\n")
    path = tmp_path / "local.yaml"
    path.write_text(readme[start : readme.index("```", start)])
    rules = load_rules([str(ROOT / "rules"), str(path)])
    assert [f.rule_id for f in rules.scan_text("use tkt_0123456789abcdef0123456789abcdef please")] == [
        "internal-ticket-token"
    ]
