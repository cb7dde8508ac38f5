"""Text written in Unicode tag characters (U+E0020-E007E): invisible to a person, read by a model
("ASCII smuggling"). Shared by the normalizer, evasion and stream tests."""


def tags(text: str) -> str:
    """`text` (ASCII) spelled in tag characters."""
    return "".join(chr(0xE0000 + ord(c)) for c in text)
