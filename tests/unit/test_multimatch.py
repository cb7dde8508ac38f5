"""The literal-word finder behind the keyword prefilter, the stream matcher and the scorer."""

from hypothesis import given
from hypothesis import strategies as st

from llmwall_core.multimatch import WordFinder


def naive(words: list[str], text: str) -> set[tuple[int, int, int]]:
    return {(i, s, s + len(w)) for i, w in enumerate(words) for s in range(len(text)) if text.startswith(w, s)}


def test_overlapping_and_nested_words_are_all_found():
    finder = WordFinder(["pass", "password", "ss", "word"], dfa=True)
    found = finder.find("a password")
    assert set(found) == {(0, 2, 6), (1, 2, 10), (2, 4, 6), (3, 6, 10)}
    assert [end for _, _, end in found] == sorted(end for _, _, end in found)


def test_offsets_are_character_offsets_past_non_ascii_text():
    finder = WordFinder(["key"])
    text = "äöü 😀 日本 key"
    ((_, start, end),) = finder.find(text)
    assert text[start:end] == "key"


def test_a_lone_surrogate_does_not_break_the_search():
    finder = WordFinder(["token"])
    text = "\ud800 token \udfff"
    ((_, start, end),) = finder.find(text)
    assert text[start:end] == "token"


def test_no_words_finds_nothing_and_duplicates_count_once():
    assert WordFinder([]).find("anything") == []
    finder = WordFinder(["a", "a", "b"])
    assert finder.words == ["a", "b"]


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=6, unique=True),
       st.text(alphabet="abcä", max_size=40))
def test_same_matches_as_a_naive_search(words, text):
    assert set(WordFinder(words).find(text)) == naive(words, text)


def test_a_mapping_keeps_each_words_value_at_its_index():
    finder = WordFinder({"key": ["rule-a"], "token": ["rule-b", "rule-c"]})
    assert [finder.values[word] for word, _, _ in finder.find("my token and key")] == [
        ["rule-b", "rule-c"], ["rule-a"]]
    assert WordFinder(["x", "y"]).values == [None, None]
