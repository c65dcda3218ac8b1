"""Majority voting over extracted answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VoteResult:
    """The outcome of a vote.

    Attributes:
        winner: The winning answer, or None when no sample had an answer.
        counts: Votes per answer, in order of first appearance.
        share: The winner's votes over all samples, answerless ones included (0.0 if none),
            so a vote where most samples had no answer does not look confident.
        no_answer: Samples with no extractable answer; they vote for nothing.
        tied: The answers tied for first place (just the winner when there was no tie).
    """

    winner: str | None
    counts: dict[str, int]
    share: float
    no_answer: int
    tied: tuple[str, ...]


class MajorityVote:
    """Plurality vote. Ties go to the tied answer that was sampled first.

    Breaking ties by first appearance keeps the result deterministic for a given sample
    order, with no hidden randomness, and matches what a reader scanning the samples
    would pick.

    Example:
        >>> MajorityVote()(["19", "9", "19", None, "9"]).winner
        '19'
    """

    def __call__(self, answers: Sequence[str | None]) -> VoteResult:
        # One pass, into a plain dict (insertion-ordered): a vote runs on every
        # self-consistency call, and a Counter fed by a generator costs twice as much.
        counts: dict[str, int] = {}
        no_answer = 0
        for answer in answers:
            if answer is None:
                no_answer += 1
            else:
                counts[answer] = counts.get(answer, 0) + 1
        if not counts:
            return VoteResult(None, {}, 0.0, no_answer, ())
        top = max(counts.values())
        tied = tuple([answer for answer, count in counts.items() if count == top])
        return VoteResult(tied[0], counts, top / len(answers), no_answer, tied)
