"""Where a reply states its answer: the final-answer span, and which value in it counts.

These rules are shared by every built-in extractor (numbers, letters, yes/no):

1. The **final-answer span** is the text after the last marker (``Answer:``, ``the answer
   is``, ``final answer:``, ``####``), to the end of that line, or the content of the last
   ``\\boxed{...}``.
2. In the span, the first sentence that states a value is the statement. A later sentence
   that opens with a **self-correction** ("Wait", "Actually", "No,", "Sorry", "Correction",
   "I mean", "On second thought") replaces it; other later sentences are commentary.
3. In the statement, an **equation's result** (after the last ``=``) wins over the terms.
4. A **justification** ("because ...", "since ...", "as ...", "given ...", "which ...")
   is dropped when the statement already gave a value before it.
5. A value right after a **negation** ("not 10", "isn't C", "rather than", "instead of")
   is not stated.
6. The **last** stated value that is left wins.

A reply that stopped at the length limit counts only when its final-answer line was
finished (see :func:`finished_answer_line`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = [
    "final_answer_span",
    "finished_answer_line",
    "is_negated",
    "last_statement_values",
    "stated_values",
    "stopped_for_length",
]

T = TypeVar("T")
#: Finds values in a piece of text: ``(offset, value)`` pairs in order.
Finder = Callable[[str], Sequence[tuple[int, T]]]

_MARKER = re.compile(
    r"\b(?:final\s+answer|answer)\b[*_\s]*(?:is\b|would\s+be\b|should\s+be\b|will\s+be\b|:|=)"
    r"[*_\s:]*|####\s*|\\boxed\s*\{",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")
_CORRECTION = re.compile(
    r"^\W*(?:wait|actually|hmm+|oops|sorry|correction|nope|no\s*[,.!]|no\s+wait|i\s+mean|"
    r"rather|on\s+second\s+thought|scratch\s+that|hold\s+on|let\s+me\s+correct|my\s+mistake|"
    r"i\s+made\s+a\s+mistake)",
    re.IGNORECASE,
)
_JUSTIFICATION = re.compile(
    r"\b(?:because|since|as|given|which|where|due\s+to)\b|\(", re.IGNORECASE
)
_NEGATION = re.compile(
    r"(?:\bnot|n['’]t|\bnever|\brather\s+than|\binstead\s+of)\s+"
    r"(?:(?:exactly|equal|to|be|just|simply|quite|really|the|answer|option|choice)\s+){0,2}$",
    re.IGNORECASE,
)
_LENGTH_REASONS = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})
_LINE_CLOSERS = tuple(".!?)]}*$")


def _last_marker(text: str) -> re.Match[str] | None:
    last = None
    for last in _MARKER.finditer(text):  # noqa: B007 - only the last marker counts
        pass
    return last


def final_answer_span(text: str) -> str | None:
    """The text after the last answer marker, up to the end of its line; None if no marker.

    Example:
        >>> final_answer_span("5 + 7 = 12, so\\n**Answer:** 12 apples")
        '12 apples'
    """
    last = _last_marker(text)
    if last is None:
        return None
    if last.group().endswith("{"):  # \boxed{...}: its braced content
        depth = 1
        for index in range(last.end(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                return text[last.end() : index].strip()
    tail = text[last.end() :].strip()
    return tail.splitlines()[0].strip() if tail else ""


def is_negated(text: str, offset: int) -> bool:
    """True when the value starting at ``offset`` follows a negation ("not 10", "isn't C")."""
    return _NEGATION.search(text[max(0, offset - 40) : offset]) is not None


def stated_values(span: str, find: Finder[T], *, drop_negated: bool = True) -> list[T]:
    """The values the span states, by the module's rules; the answer is the last one.

    Args:
        span: A final-answer span.
        find: Finds candidate values in a sentence.
        drop_negated: Leave out values right after a negation (yes/no readers handle
            negation themselves, by flipping the verdict).
    """
    chosen: list[T] = []
    correcting = False  # "Wait, no. B." corrects in the sentence after the cue
    for sentence in _SENTENCE_END.split(span):
        correcting = correcting or _CORRECTION.match(sentence) is not None
        values = _statement(sentence, find, drop_negated)
        if values and (not chosen or correcting):
            chosen, correcting = values, False
    return chosen


def last_statement_values(text: str, find: Finder[T], *, drop_negated: bool = True) -> list[T]:
    """For a reply without a marker: the values of its last sentence that states one.

    The statement rules of :func:`stated_values` apply inside that sentence.
    """
    for sentence in reversed(_SENTENCE_END.split(text)):
        values = _statement(sentence, find, drop_negated)
        if values:
            return values
    return []


def _statement(sentence: str, find: Finder[T], drop_negated: bool) -> list[T]:
    found = [(o, v) for o, v in find(sentence) if not (drop_negated and is_negated(sentence, o))]
    if not found:
        return []
    equals = sentence.rfind("=")
    result = [(o, v) for o, v in found if o > equals]
    if result and equals >= 0:
        return [v for _, v in result]
    starts = {o for o, _ in found}
    for reason in _JUSTIFICATION.finditer(sentence, found[0][0] + 1):
        if reason.start() not in starts:  # "(B)" is a value, not a parenthesis
            found = [(o, v) for o, v in found if o < reason.start()]
            break
    return [v for _, v in found]


def stopped_for_length(finish_reason: str | None) -> bool:
    """True for a finish reason that means "cut off by the token limit" (any provider's)."""
    return finish_reason is not None and finish_reason.lower() in _LENGTH_REASONS


def finished_answer_line(text: str) -> bool:
    """True when ``text`` has a final-answer marker and the line after it was finished.

    Finished means more text follows on a later line, or the line ends in a closing
    character (``.``, ``!``, ``?``, ``)``, ``]``, ``}``, ``*``, ``$``). A reply cut off
    right after ``Answer: 15`` may have been about to write ``150``, so it is not.
    """
    last = _last_marker(text)
    if last is None:
        return False
    tail = text[last.end() :].strip()
    return bool(tail) and ("\n" in tail or tail.endswith(_LINE_CLOSERS))
