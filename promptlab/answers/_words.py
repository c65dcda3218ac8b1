"""Answers that are words: a multiple-choice letter (``ChoiceAnswer``) or yes/no."""

from __future__ import annotations

import re
from typing import ClassVar

from promptlab.answers._spans import final_answer_span, last_statement_values, stated_values


class ChoiceAnswer:
    """A multiple-choice letter, e.g. ``"B"``.

    Only standalone option tokens count: ``B``, ``(B)``, ``[B]``, ``B)``, ``**B**``,
    ``option B``, ``Answer: B``; never a letter inside a word (``I'd`` is not D), nor the
    article in "the answer is a tough one" (a lowercase letter counts only in an option
    form, or as the whole answer). Without an answer marker only option forms count
    (``(B)``, ``option B``, ``B)`` or ``B.`` opening a line), so the last capital letter of
    a sentence ("Vitamin C") is not an answer.

    Args:
        letters: The allowed letters.

    Example:
        >>> ChoiceAnswer().extract("I'd say the answer is (B), not C.")
        'B'
    """

    # Bare "A" and "I" followed by a lowercase word are an article or a pronoun
    # ("A tough one", "I think") unless the word says something about an option.
    _OPTION_VERBS = frozenset(
        {"is", "was", "seems", "looks", "appears", "would", "should", "must", "can", "could"}
        | {"fits", "matches", "and", "or"}
    )

    def __init__(self, letters: str = "ABCD") -> None:
        self.letters = letters.upper()
        upper = re.escape(self.letters)
        both = upper + re.escape(self.letters.lower())
        formatted = (
            rf"\(\s*(?P<p>[{both}])\s*\)|\[\s*(?P<b>[{both}])\s*\]|\*\*(?P<s>[{both}])\*\*"
            rf"|(?i:option|choice|letter)\s+\(?(?P<o>[{both}])\)?|(?P<r>[{both}])\)"
        )
        edge = r"(?<![\w'’])", r"(?![\w'’])"
        self._in_span = re.compile(rf"{edge[0]}(?:{formatted}|(?P<l>[{upper}])){edge[1]}")
        self._free = re.compile(
            rf"{edge[0]}(?:{formatted}){edge[1]}|^[ \t>*#-]*(?P<l>[{upper}])(?:[.:)]|\s*$)",
            re.MULTILINE,
        )
        self._alone = re.compile(rf"^\W*([{both}])\W*$")

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        if span is not None:
            alone = self._alone.match(span)
            if alone:
                return alone.group(1).upper()
            letters = stated_values(span, self._span_letters)
            if letters:
                return letters[-1]
        letters = last_statement_values(text, self._free_letters)
        return letters[-1] if letters else None

    def _span_letters(self, text: str) -> list[tuple[int, str]]:
        found = []
        for match in self._in_span.finditer(text):
            letter = next(g for g in match.groups() if g is not None)
            if match.group("l") in ("A", "I"):
                word = re.match(r"\s+([a-z]+)", text[match.end() :])
                if word and word.group(1) not in self._OPTION_VERBS:
                    continue
            found.append((match.start(), letter.upper()))
        return found

    def _free_letters(self, text: str) -> list[tuple[int, str]]:
        return [
            (m.start(), next(g for g in m.groups() if g is not None).upper())
            for m in self._free.finditer(text)
        ]

    def normalize(self, value: object) -> str | None:
        letter = str(value).strip().strip("()[]*.").strip().upper()
        return letter if len(letter) == 1 and letter in self.letters else None


class YesNoAnswer:
    """``"yes"`` or ``"no"``; ``true``/``false``, ``correct``/``incorrect``/``wrong`` count too.

    A negation flips a verdict ("not true", "isn't correct", "doesn't seem correct" are no;
    "not false" is yes), the last verdict wins ("No, wait: yes" is yes), and words that are
    not verdicts are left out: "no" before a noun ("no doubt", "no further"), adjectives
    ("the correct answer"), and the question's own "yes or no".

    Example:
        >>> YesNoAnswer().extract("Answer: That is not true.")
        'no'
    """

    _WORD = re.compile(r"\b(yes|no|true|false|correct|incorrect|wrong)\b", re.IGNORECASE)
    _PAIR = re.compile(
        r"\b(?:yes\s*(?:or|/)\s*no|no\s*(?:or|/)\s*yes|true\s*(?:or|/)\s*false"
        r"|false\s*(?:or|/)\s*true)\b",
        re.IGNORECASE,
    )
    _NO_AS_VERDICT = re.compile(
        r"\s*(?:[,.!?;:)\]*]|$)|\s+(?:it|that|this|they|he|she|we|i|you|there|wait)\b",
        re.IGNORECASE,
    )
    _ADJECTIVE_USE = re.compile(
        r"\s+(?:answer|answers|option|options|choice|statement|claim|assumption|premise"
        r"|reasoning|approach|way|method|one|value|result|number)\b",
        re.IGNORECASE,
    )
    _FLIP = re.compile(
        r"(?:\bnot|n['’]t|\bnever|\bhardly)\s+"
        r"(?:(?:entirely|completely|quite|really|actually|necessarily|exactly|always|strictly"
        r"|totally|fully|at|all|be|been|seem|seems|sound|sounds|look|looks)\s+){0,3}$",
        re.IGNORECASE,
    )
    _CANON: ClassVar[dict[str, str]] = {
        "yes": "yes",
        "true": "yes",
        "correct": "yes",
        "no": "no",
        "false": "no",
        "incorrect": "no",
        "wrong": "no",
    }

    def extract(self, text: str) -> str | None:
        text = self._PAIR.sub(lambda m: " " * len(m.group()), text)
        span = final_answer_span(text)
        if span:
            verdicts = stated_values(span, self._verdicts, drop_negated=False)
            if verdicts:
                return verdicts[-1]
        verdicts = last_statement_values(text, self._verdicts, drop_negated=False)
        return verdicts[-1] if verdicts else None

    def _verdicts(self, text: str) -> list[tuple[int, str]]:
        found = []
        for match in self._WORD.finditer(text):
            word = match.group(1).lower()
            after = text[match.end() :]
            if word == "no" and not self._NO_AS_VERDICT.match(after):
                continue
            if word not in ("yes", "no"):
                if self._ADJECTIVE_USE.match(after):
                    continue
                if self._FLIP.search(text[max(0, match.start() - 60) : match.start()]):
                    word = "false" if self._CANON[word] == "yes" else "true"
            found.append((match.start(), self._CANON[word]))
        return found

    def normalize(self, value: object) -> str | None:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return self._CANON.get(str(value).strip().lower().rstrip("."))
