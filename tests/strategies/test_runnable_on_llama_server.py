"""Strategy.as_runnable in an LCEL chain on llama-server, reached through langchain-openai."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from promptlab.providers.langchain import LangChainProvider
from promptlab.providers.retry import RetryPolicy
from promptlab.strategies import ChainOfThought, SelfConsistency
from promptlab.strategies.base import StrategyResult

langchain_openai = pytest.importorskip("langchain_openai")
runnables = pytest.importorskip("langchain_core.runnables")

# langchain-openai keeps one HTTP client per base URL, bound to the loop that first used
# it, and other tests talk to the same server on other loops: each model gets its own
# client, made on the loop that uses it.
pytestmark = [pytest.mark.local_server, pytest.mark.asyncio(loop_scope="module")]


async def test_self_consistency_inside_a_chain_on_chat_openai(llama_server: Any) -> None:
    chat = langchain_openai.ChatOpenAI(
        model="smollm2",
        base_url=llama_server.base_url,
        api_key="unused",
        max_retries=0,
        http_async_client=httpx.AsyncClient(),
    )
    provider = LangChainProvider(chat, native_n=False, retry=RetryPolicy(max_attempts=2))
    strategy = SelfConsistency(ChainOfThought(extractor="numeric"), n=3)
    chain = (
        runnables.RunnableLambda(lambda n: {"question": f"What is {n} + {n}?"})
        | strategy.as_runnable(provider, params={"max_tokens": 32})
        | runnables.RunnableLambda(lambda r: (r, r.votes))
    )
    result, votes = await chain.ainvoke(2)
    assert isinstance(result, StrategyResult) and len(result.samples) == 3
    assert result.usage.output_tokens > 0  # real tokens from the server
    assert sum((votes or {}).values()) + result.no_answer == 3
    batch = await chain.abatch([1, 3])
    assert [len(r.samples) for r, _ in batch] == [3, 3]
