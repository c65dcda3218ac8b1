"""Zero-shot prompting: the question alone."""

from __future__ import annotations

from promptlab.strategies.base import Strategy


class ZeroShot(Strategy):
    """Ask the question with no examples (built-in template ``zero_shot``).

    Example:
        >>> from promptlab.testing import FakeProvider
        >>> ZeroShot(extractor="numeric").run(
        ...     {"question": "What is 2 + 2?"}, FakeProvider(["Answer: 4"])
        ... ).answer
        '4'
    """

    default_template = "zero_shot"
