"""Chinese number words as used in policy texts (一是, 七个方面, 九部门, 十四五)."""

from kg.text.normalize import genre


def chinese_number(word: str) -> int:
    """The value of a Chinese number word up to 99.

    >>> [chinese_number(w) for w in ("七", "十", "十四", "二十三")]
    [7, 10, 14, 23]
    """
    digits = genre()["numbers"]["digits"]
    if "十" not in word:
        return digits[word]
    tens, _, units = word.partition("十")
    return (digits[tens] if tens else 1) * 10 + (digits[units] if units else 0)
