"""The codecs' `loads` (the C scanner called directly) agrees with json.loads, or gives None where it raises."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmwall_core.providers._util import loads


def reference(data: str):
    try:
        return json.loads(data)
    except ValueError:
        return None


CASES = ['{"a": 1}', ' {"a": 1}', '{"a": 1} ', '{"a": 1}\n\r\t', '{"a": 1} x', '{"a": 1}{}', '[1, 2]', '"s"',
         "1", "  1  ", "NaN", "-Infinity", "true", "null", "[DONE]", "{", "}", "", "\ufeff{}", "{}\x0b",
         '{"a": "\\u00e9\\ud83d\\ude00"}', '{"a": 1, "a": 2}', "   ", "x"]


@pytest.mark.parametrize("data", CASES)
def test_agrees_with_json_loads(data):
    assert repr(loads(data)) == repr(reference(data))  # repr: NaN != NaN


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                       max_size=3), max_leaves=8)


@given(json_values, st.sampled_from(["", " ", "\n", "\t\r\n", " x", ",", "\x0c"]),
       st.sampled_from(["", " ", "\n "]))
def test_agrees_on_documents_with_padding(doc, tail, head):
    data = head + json.dumps(doc) + tail
    assert loads(data) == reference(data)
