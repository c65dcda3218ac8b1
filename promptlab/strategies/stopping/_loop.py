"""The sampling loop of self-consistency: batches planned ahead, a rule asked after each.

The loop's decisions live in :class:`SamplingLoop`, which does no drawing itself (sans-IO):
it says how many samples to draw next and takes the answers drawn. Two small drivers run it,
:func:`sample_until_stop` for an async ``draw`` and :func:`sample_until_stop_sync` for a
blocking one, so a run with an event loop and a run without one stop at the same sample
with the same reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

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


class SamplingLoop:
    """The sampling loop's state and decisions, without the drawing (sans-IO).

    Ask :meth:`next_batch` for the size of the next batch, draw that many answers however
    you like, hand them to :meth:`add`; repeat until :meth:`next_batch` returns 0. Then
    :attr:`votes` holds every answer drawn and :attr:`decision` says why sampling ended.
    Batches follow :func:`plan_batches` (one batch of ``max_n`` without a rule), and the
    rule, bound to the budget with :func:`with_budget`, sees all answers after each batch.

    Args:
        rule: The stopping rule, or None for a fixed ``max_n``.
        max_n: Sample budget.
        batch_size: Samples per batch (ignored without a rule).

    Example:
        >>> from promptlab.strategies.stopping import WindowStop
        >>> loop = SamplingLoop(WindowStop(2), max_n=6, batch_size=2)
        >>> while size := loop.next_batch():
        ...     loop.add(["A"] * size)
        >>> len(loop.votes), loop.decision.reason
        (2, 'window: last 2 agree after 2 samples')
    """

    __slots__ = ("_asked", "_max_n", "_rule", "_sizes", "decision", "votes")

    def __init__(self, rule: StoppingRule | None, max_n: int, batch_size: int = 1) -> None:
        self._rule = None if rule is None else with_budget(rule, max_n)
        self._max_n = max_n
        # Planned up front, so a bad budget or batch size fails before anything is drawn.
        self._sizes = iter(plan_batches(max_n, max_n if rule is None else batch_size))
        self._asked = 0
        self.votes: list[Vote] = []
        #: Why sampling ended; None while it goes on.
        self.decision: StopDecision | None = None

    def next_batch(self) -> int:
        """How many samples to draw next, or 0 when sampling is over (see :attr:`decision`)."""
        if self.decision is not None:
            return 0
        size = self._asked = next(self._sizes, 0)
        if not size:
            self.decision = (
                StopDecision(True, f"fixed n={self._max_n}")
                if self._rule is None
                else StopDecision(True, f"max n={self._max_n} reached")
            )
        return size

    def add(self, answers: Iterable[Vote]) -> None:
        """Take the answers drawn for the batch :meth:`next_batch` asked for, in order."""
        batch, size = list(answers), self._asked
        if len(batch) != size:
            raise StoppingParameterError(
                f"draw({size}) returned {len(batch)} answers: it must return exactly {size}."
            )
        self.votes.extend(batch)
        if self._rule is not None:
            decision = self._rule.decide(self.votes)
            if decision.stop:
                self.decision = decision

    def result(self) -> tuple[list[Vote], StopDecision]:
        """Every answer drawn and the final decision, once :meth:`next_batch` returned 0."""
        if self.decision is None:
            raise RuntimeError("the sampling loop is still running: call next_batch() first.")
        return self.votes, self.decision


async def sample_until_stop(
    draw: Callable[[int], Awaitable[Sequence[Vote]]],
    rule: StoppingRule | None,
    max_n: int,
    batch_size: int = 1,
) -> tuple[list[Vote], StopDecision]:
    """The sampling loop of self-consistency: draw batches until ``rule`` stops or ``max_n``.

    :class:`~promptlab.strategies.self_consistency.SelfConsistency` runs this loop (its
    blocking ``run`` runs :func:`sample_until_stop_sync`, the same :class:`SamplingLoop`),
    and so do the tests and the benchmarks, so what they measure is what the library does.
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
    loop = SamplingLoop(rule, max_n, batch_size)
    while size := loop.next_batch():
        loop.add(await draw(size))
    return loop.result()


def sample_until_stop_sync(
    draw: Callable[[int], Sequence[Vote]],
    rule: StoppingRule | None,
    max_n: int,
    batch_size: int = 1,
) -> tuple[list[Vote], StopDecision]:
    """:func:`sample_until_stop` for a blocking ``draw``: the same loop, no event loop.

    Example:
        >>> from promptlab.strategies.stopping import WindowStop
        >>> votes, decision = sample_until_stop_sync(lambda k: ["A"] * k, WindowStop(3), 8)
        >>> len(votes), decision.reason
        (3, 'window: last 3 agree after 3 samples')
    """
    loop = SamplingLoop(rule, max_n, batch_size)
    while size := loop.next_batch():
        loop.add(draw(size))
    return loop.result()
