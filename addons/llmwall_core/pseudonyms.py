"""Per-exchange pseudonym vault: the provider sees `<EMAIL_1>`, the client gets the real value back."""

from __future__ import annotations


class PseudonymVault:
    """Stable placeholders per value within one exchange (request and its reply). Never persisted."""

    __slots__ = ("_by_value", "_by_placeholder", "_counters")

    def __init__(self) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._by_placeholder)

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def placeholder(self, label: str, value: str) -> str:
        """The placeholder for `value` (the same value always gets the same one)."""
        key = (label, value)
        found = self._by_value.get(key)
        if found is None:
            number = self._counters.get(label, 0) + 1
            self._counters[label] = number
            found = f"<{label}_{number}>"
            self._by_value[key] = found
            self._by_placeholder[found] = value
        return found

    def restore(self, placeholder: str) -> str | None:
        """The original value of a placeholder issued by this vault, or None."""
        return self._by_placeholder.get(placeholder)

    def restore_text(self, text: str) -> str:
        """Replace every known placeholder in a whole text (non-streamed replies)."""
        if not self._by_placeholder or "<" not in text:
            return text
        for placeholder, value in self._by_placeholder.items():
            if placeholder in text:
                text = text.replace(placeholder, value)
        return text
