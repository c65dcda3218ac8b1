"""Perplexity on the bundled model equals a computation made here from llama.cpp's raw logits.

The reference values come from llama-cpp-python directly (a separate ``Llama`` with
``logits_all=True``) and a log-softmax in NumPy; nothing of promptlab's scoring code is
used to compute them. In CI a model that cannot load fails (tests/conftest.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from promptlab import LlamaCppProvider, Message, perplexity
from promptlab.errors import ConfigurationError, ContextWindowExceededError
from tests.conftest import require

pytestmark = pytest.mark.local_model

TEXT = "The quick brown fox jumps over the lazy dog. It was a sunny day in Paris."


@pytest.fixture(scope="module")
def raw_llama(local_provider: LlamaCppProvider) -> Any:
    """The same GGUF file, loaded straight through llama-cpp-python."""

    def build() -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=str(local_provider.model_path),
            n_ctx=local_provider.n_ctx,
            logits_all=True,
            verbose=False,
        )

    llama = require("llama-cpp-python with the bundled model", build)
    yield llama
    llama.close()


def raw_logprobs(llama: Any, tokens: list[int], first: int) -> list[float]:
    """log p(tokens[i] | tokens[:i]) for i >= first, from the raw logits."""
    llama.reset()
    llama.eval(tokens)
    logits = np.array(llama.scores[: len(tokens)], dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return [float(log_softmax[i - 1, tokens[i]]) for i in range(first, len(tokens))]


def test_a_text_is_scored_from_the_bos_token_exactly_as_the_raw_logits_say(
    local_provider: LlamaCppProvider, raw_llama: Any
) -> None:
    scored = local_provider.prompt_logprobs_sync(TEXT)
    # SmolLM2 does not add BOS itself; the first token is predicted from its BOS token.
    tokens = [raw_llama.token_bos(), *raw_llama.tokenize(TEXT.encode(), add_bos=False)]
    expected = raw_logprobs(raw_llama, tokens, first=1)
    assert len(scored.logprobs) == len(expected) == len(tokens) - 1
    assert np.max(np.abs(np.array(scored.logprobs) - expected)) < 1e-6
    assert "".join(scored.tokens) == TEXT

    result = perplexity(local_provider, TEXT)
    nll = -math.fsum(expected)
    assert result.nll == pytest.approx(nll, abs=1e-6)
    assert (result.tokens, result.words, result.bytes) == (len(expected), 16, len(TEXT))
    assert result.word_perplexity == pytest.approx(math.exp(nll / 16), rel=1e-6)
    assert result.bits_per_byte == pytest.approx(nll / (math.log(2) * len(TEXT)), rel=1e-6)


def test_a_continuation_is_scored_given_its_context(
    local_provider: LlamaCppProvider, raw_llama: Any
) -> None:
    context, answer = "Question: What is the capital of France?\nAnswer:", " Paris."
    scored = local_provider.prompt_logprobs_sync((context, answer))
    prefix = raw_llama.tokenize(context.encode(), add_bos=False)
    tokens = prefix + raw_llama.tokenize(answer.encode(), add_bos=False)
    expected = raw_logprobs(raw_llama, tokens, first=len(prefix))
    assert np.max(np.abs(np.array(scored.logprobs) - expected)) < 1e-6
    assert scored.text == answer


def test_a_chat_context_is_the_prompt_the_chat_template_makes(
    local_provider: LlamaCppProvider, raw_llama: Any
) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    messages = [Message("system", "Answer briefly."), Message("user", "Capital of France?")]
    scored = local_provider.prompt_logprobs_sync((messages, "Paris"))
    formatter = Jinja2ChatFormatter(
        template=raw_llama.metadata["tokenizer.chat_template"],
        eos_token=raw_llama.detokenize([raw_llama.token_eos()], special=True).decode(),
        bos_token=raw_llama.detokenize([raw_llama.token_bos()], special=True).decode(),
    )
    prompt = formatter(messages=[m.to_dict() for m in messages]).prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    prefix = raw_llama.tokenize(prompt.encode(), add_bos=False, special=True)
    tokens = prefix + raw_llama.tokenize(b"Paris", add_bos=False)
    expected = raw_logprobs(raw_llama, tokens, first=len(prefix))
    assert np.max(np.abs(np.array(scored.logprobs) - expected)) < 1e-6


def test_rolling_windows_equal_the_direct_value_when_the_text_fits(
    local_provider: LlamaCppProvider,
) -> None:
    direct = local_provider.prompt_logprobs_sync(TEXT)
    rolled = local_provider.prompt_logprobs_sync(TEXT, rolling=True, context_size=64, stride=16)
    assert rolled.logprobs == direct.logprobs


def test_rolling_windows_give_each_later_token_the_window_before_it(
    local_provider: LlamaCppProvider, raw_llama: Any
) -> None:
    size = 8
    rolled = local_provider.prompt_logprobs_sync(TEXT, rolling=True, context_size=size, stride=5)
    tokens = [raw_llama.token_bos(), *raw_llama.tokenize(TEXT.encode(), add_bos=False)]
    assert len(rolled.logprobs) == len(tokens) - 1  # every token scored once
    # The first window is the direct computation; the last token is predicted from the
    # size - 1 tokens before it (its window reaches back as far as it can).
    assert np.allclose(rolled.logprobs[: size - 1], raw_logprobs(raw_llama, tokens[:size], 1))
    last = raw_logprobs(raw_llama, tokens[-size:], first=size - 1)
    assert rolled.logprobs[-1] == pytest.approx(last[0], abs=1e-6)
    direct = local_provider.prompt_logprobs_sync(TEXT)
    assert rolled.logprobs[-1] != pytest.approx(direct.logprobs[-1], abs=1e-6)


def test_a_text_longer_than_the_context_needs_rolling_windows(
    local_provider: LlamaCppProvider,
) -> None:
    long_text = "word " * (local_provider.n_ctx + 10)
    with pytest.raises(ContextWindowExceededError, match="rolling=True"):
        local_provider.prompt_logprobs_sync(long_text)
    with pytest.raises(ConfigurationError, match="larger than the model's context window"):
        local_provider.prompt_logprobs_sync(
            "Hi", rolling=True, context_size=local_provider.n_ctx + 1
        )
    with pytest.raises(ConfigurationError, match="rolling=True"):
        local_provider.prompt_logprobs_sync("Hi", stride=4)


def test_empty_texts_are_refused_before_the_model_runs(local_provider: LlamaCppProvider) -> None:
    with pytest.raises(ConfigurationError, match="non-empty"):
        perplexity(local_provider, "")
    with pytest.raises(ConfigurationError, match="no texts"):
        perplexity(local_provider, [])
