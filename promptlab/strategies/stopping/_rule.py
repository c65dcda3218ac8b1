"""What a stopping rule is, and the rules that need neither a posterior nor a budget."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from promptlab._checks import is_int, is_number
from promptlab.errors import ConfigurationError

Vote = Hashable | None


class StoppingParameterError(ConfigurationError, ValueError):
    """A stopping rule or batch plan got a parameter outside its allowed range."""


@dataclass(frozen=True)
class StopDecision:
    """What a stopping rule decided after looking at the votes so far.

    Attributes:
        stop: True when no more samples are needed.
        reason: Human-readable explanation, starting with the rule's tag, e.g.
            ``"beta: P(lead>0.5)=0.9688>=0.95 after 4 samples"``.
    """

    stop: bool
    reason: str


@runtime_checkable
class StoppingRule(Protocol):
    """Anything with ``decide(votes) -> StopDecision``; rules hold no per-question state."""

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Decide whether the ordered answers so far are enough."""
        ...


def _require_int(name: str, value: object, minimum: int) -> int:
    if not is_int(value) or value < minimum:
        raise StoppingParameterError(
            f"{name}={value!r} is not allowed: use an integer >= {minimum}."
        )
    return value


class FixedN:
    """Never stops early; the sampler draws all ``max_n`` samples (plain self-consistency)."""

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Always continue."""
        return StopDecision(False, f"fixed: never stops early ({len(votes)} samples so far)")

    def __repr__(self) -> str:
        return "FixedN()"


def _check_threshold(threshold: float) -> float:
    if not is_number(threshold):
        raise StoppingParameterError(
            f"threshold={threshold!r} is not allowed: use a number in (0.5, 1)."
        )
    if not 0.5 < threshold < 1:
        raise StoppingParameterError(
            f"threshold={threshold!r} is not allowed: use a value strictly between 0.5 "
            "and 1 (0.5 would stop on a coin flip, 1 never stops)."
        )
    return float(threshold)


def _vote_counts(votes: Sequence[Vote]) -> list[int]:
    """Counts of the distinct non-None answers, largest first."""
    # most_common keeps first-seen order among equal counts (Counter is insertion-ordered).
    return [c for _, c in Counter(v for v in votes if v is not None).most_common()]


class WindowStop:
    """Early-Stopping Self-Consistency: stop when the last ``window`` samples agree.

    Agreement means the same non-None answer in each of the last ``window`` samples; a None
    in the window blocks stopping. Li et al. sample in non-overlapping windows; checking the
    sliding window after batches of size ``window`` reproduces their procedure exactly, and
    smaller batches can only stop sooner.

    Args:
        window: Number of trailing samples that must agree, >= 1.

    Example:
        >>> WindowStop(3).decide(["B", "A", "A", "A"]).stop
        True
    """

    def __init__(self, window: int = 4) -> None:
        self.window = _require_int("window", window, 1)

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when the trailing window holds one repeated non-None answer."""
        n = len(votes)
        if n < self.window:
            return StopDecision(False, f"window: {n} samples < window={self.window}")
        tail = votes[n - self.window :]
        if tail[0] is not None and all(v == tail[0] for v in tail):
            return StopDecision(True, f"window: last {self.window} agree after {n} samples")
        return StopDecision(False, f"window: last {self.window} disagree after {n} samples")

    def __repr__(self) -> str:
        return f"WindowStop(window={self.window})"


def _lead_and_runner_up(votes: Sequence[Vote]) -> tuple[int, int]:
    lead, runner_up = (*_vote_counts(votes)[:2], 0, 0)[:2]
    return lead, runner_up


class AnyStop:
    """Stop as soon as any of ``rules`` says stop (checked in order; its reason is given).

    Example:
        >>> from promptlab.strategies.stopping import BetaStop, UnbeatableStop
        >>> rule = AnyStop(UnbeatableStop(max_n=16), BetaStop(0.95))
        >>> rule.decide(["A", "A", "A", "A", "A"]).reason
        'beta: P(lead>0.5)=0.9844>=0.95 after 5 samples'
    """

    def __init__(self, *rules: StoppingRule) -> None:
        if not rules:
            raise StoppingParameterError("AnyStop() needs at least one rule.")
        for rule in rules:
            if not isinstance(rule, StoppingRule):
                raise StoppingParameterError(
                    f"AnyStop got {rule!r}, which is not a stopping rule (no decide(votes))."
                )
        self.rules = tuple(rules)

    def for_budget(self, max_n: int) -> AnyStop:
        """A copy with every budget-aware rule bound to ``max_n``."""
        return AnyStop(*(with_budget(rule, max_n) for rule in self.rules))

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """The first rule's decision that says stop, else the last rule's."""
        decision = StopDecision(False, "")
        for rule in self.rules:
            decision = rule.decide(votes)
            if decision.stop:
                return decision
        return decision

    def __repr__(self) -> str:
        return f"AnyStop({', '.join(map(repr, self.rules))})"


def with_budget(rule: StoppingRule, max_n: int) -> StoppingRule:
    """``rule`` bound to a budget of ``max_n`` if it is budget-aware, else ``rule`` itself."""
    bind = getattr(rule, "for_budget", None)
    return bind(max_n) if callable(bind) else rule
