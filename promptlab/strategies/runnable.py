"""A promptlab strategy as a LangChain ``Runnable``, to drop into an LCEL chain.

``strategy.as_runnable(provider)`` gives a ``Runnable`` with ``invoke``, ``ainvoke``,
``batch`` and ``abatch`` (and ``|`` composition). Its input is the task's inputs (a
mapping of template variables; a plain string is taken as ``{"question": ...}``), its
output the :class:`~promptlab.strategies.base.StrategyResult`, or only the final answer
with ``output="answer"``. Self-consistency and every other strategy work the same way:
the strategy runs exactly as it does in an experiment.

Example:
    >>> from langchain_core.runnables import RunnableLambda            # doctest: +SKIP
    >>> solve = SelfConsistency(ChainOfThought(extractor="numeric"), n=5)
    >>> chain = solve.as_runnable(provider, output="answer") | RunnableLambda(int)
    >>> chain.invoke({"question": "What is 6 * 7?"})                   # doctest: +SKIP
    42
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from promptlab.errors import ConfigurationError

if TYPE_CHECKING:
    from promptlab.params import GenerationParams
    from promptlab.providers.base import Provider
    from promptlab.strategies.base import Strategy, StrategyResult

__all__ = ["RunnableOutput", "as_runnable"]

RunnableOutput = Literal["result", "answer"]


def as_runnable(
    strategy: Strategy,
    provider: Provider,
    *,
    output: RunnableOutput = "result",
    params: GenerationParams | Mapping[str, Any] | None = None,
) -> Any:
    """``strategy`` on ``provider`` as a LangChain ``RunnableLambda``.

    Args:
        strategy: Any promptlab strategy.
        provider: The provider it calls (a promptlab provider; wrap a LangChain chat
            model in :class:`~promptlab.providers.langchain.LangChainProvider`).
        output: ``"result"`` (the :class:`StrategyResult`) or ``"answer"`` (its answer).
        params: Generation parameters for every call, over the strategy's own.

    Raises:
        ConfigurationError: ``langchain-core`` is not installed, or ``output`` is unknown.
    """
    try:
        from langchain_core.runnables import RunnableLambda
    except ImportError as exc:
        raise ConfigurationError(
            'as_runnable needs langchain-core: pip install "promptlab[langchain]".'
        ) from exc
    if output not in ("result", "answer"):
        raise ConfigurationError(f"output={output!r} is not allowed: use 'result' or 'answer'.")

    def pick(result: StrategyResult) -> Any:
        return result if output == "result" else result.answer

    def invoke(value: Any) -> Any:
        return pick(strategy.run(_inputs(value), provider, params=params))

    async def ainvoke(value: Any) -> Any:
        return pick(await strategy.arun(_inputs(value), provider, params=params))

    return RunnableLambda(invoke, afunc=ainvoke, name=f"promptlab {strategy.name}")


def _inputs(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        return {"question": value}
    raise ConfigurationError(
        f"a promptlab runnable takes the task's inputs as a dict of template variables "
        f"(or a string, as the question); got {type(value).__name__}."
    )
