"""The sampling loop of self-consistency: batches planned ahead, a rule asked after each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from promptlab.strategies.stopping._rule import (
    StopDecision,
    StoppingParameterError,
    StoppingRule,
    Vote,
    _require_int,
    with_budget,
)


def plan_batches(max_n: int, batch_size: int) -> list[int]:
    """Split a budget of ``max_n`` samples into batches of ``batch_size`` (last one smaller).

    The sampler draws one batch, appends the answers, and calls ``rule.decide`` on all
    answers so far; it stops at the first ``stop=True`` or after the last batch.

    Example:
        >>> plan_batches(10, 4)
        [4, 4, 2]
    """
    _require_int("max_n", max_n, 1)
    _require_int("batch_size", batch_size, 1)
    full, rest = divmod(max_n, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


async def sample_until_stop(
    draw: Callable[[int], Awaitable[Sequence[Vote]]],
    rule: StoppingRule | None,
    max_n: int,
    batch_size: int = 1,
) -> tuple[list[Vote], StopDecision]:
    """The sampling loop of self-consistency: draw batches until ``rule`` stops or ``max_n``.

    :class:`~promptlab.strategies.self_consistency.SelfConsistency` runs this loop, and
    so do the tests and the benchmarks, so what they measure is what the library does.
    Batches follow :func:`plan_batches`; ``rule.decide`` sees all answers so far after
    each batch. Without a rule, all ``max_n`` samples are drawn in one batch.

    Args:
        draw: ``await draw(k)`` returns the next ``k`` extracted answers (None where
            extraction failed).
        rule: The stopping rule to consult after each batch, or None for a fixed ``max_n``.
        max_n: Sample budget.
        batch_size: Samples per batch (ignored without a rule).

    Returns:
        All answers drawn, and the final decision: the rule's own whenever it said stop
        (also on the last batch), ``"max n=N reached"`` when the budget ran out with the
        rule still asking for more, and ``"fixed n=N"`` without a rule.

    Example:
        >>> import asyncio
        >>> from promptlab.strategies.stopping import WindowStop
        >>> async def draw(k):
        ...     return ["A"] * k
        >>> votes, decision = asyncio.run(sample_until_stop(draw, WindowStop(3), max_n=8))
        >>> len(votes), decision.reason
        (3, 'window: last 3 agree after 3 samples')
    """
    votes: list[Vote] = []
    if rule is not None:
        rule = with_budget(rule, max_n)
    for size in plan_batches(max_n, max_n if rule is None else batch_size):
        batch = list(await draw(size))
        if len(batch) != size:
            raise StoppingParameterError(
                f"draw({size}) returned {len(batch)} answers: it must return exactly {size}."
            )
        votes.extend(batch)
        if rule is not None:
            decision = rule.decide(votes)
            if decision.stop:
                return votes, decision
    if rule is None:
        return votes, StopDecision(True, f"fixed n={max_n}")
    return votes, StopDecision(True, f"max n={max_n} reached")
