"""Traditional → simplified Chinese through OpenCC, the maintained converter."""

from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones.

    >>> to_simplified("示例合作實施方案")
    '示例合作实施方案'
    """
    return _converter().convert(text)
