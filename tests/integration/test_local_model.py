"""The strategies and parameters on the real bundled model (SmolLM2-135M via llama.cpp).

These need the ``local`` extra. In CI (CI=true) a model that cannot load fails the suite.
"""

from __future__ import annotations

import pytest

from promptlab import (
    ChainOfThought,
    CompletionRequest,
    FewShot,
    GenerationParams,
    Message,
    SelfConsistency,
    ZeroShot,
)

pytestmark = pytest.mark.local_model

QUESTION = {"question": "Tom has 3 apples and buys 2 more. How many apples does he have?"}
SHOTS = [
    {
        "question": "Ann has 1 pen and finds 1 more. How many pens?",
        "rationale": "1 + 1 = 2.",
        "answer": "2",
    },
    {
        "question": "Bo has 4 cups and breaks 1. How many cups?",
        "rationale": "4 - 1 = 3.",
        "answer": "3",
    },
]


def ask(provider, prompt, **params):
    request = CompletionRequest.of([Message("user", prompt)], GenerationParams(**params))
    return provider.complete_sync(request)


@pytest.mark.parametrize(
    "strategy",
    [
        ZeroShot(extractor="numeric"),
        FewShot(SHOTS, extractor="numeric"),
        ChainOfThought(extractor="numeric"),
        ChainOfThought(FewShot(SHOTS, extractor="numeric")),
        SelfConsistency(ChainOfThought(FewShot(SHOTS, extractor="numeric")), n=3),
    ],
    ids=["zero_shot", "few_shot", "cot", "few_shot_cot", "sc_cot_few_shot"],
)
def test_every_strategy_runs_end_to_end(local_provider, strategy):
    result = strategy.run(QUESTION, local_provider, max_tokens=48, seed=1)
    assert result.samples and all(s.text.strip() for s in result.samples)
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.cost_usd == 0.0
    assert result.messages[-1].content.startswith(QUESTION["question"])


def test_stop_sequence_really_stops_generation(local_provider):
    prompt = "Count from 1 to 20, separated by commas."
    free = ask(local_provider, prompt, temperature=0, max_tokens=60, seed=0)
    assert "5" in free.text, free.text  # the model does count past 5 ...
    stopped = ask(local_provider, prompt, temperature=0, max_tokens=60, seed=0, stop=["5"])
    # ... and with stop=["5"] it ends right before the first "5".
    assert "5" not in stopped.text
    assert free.text.startswith(stopped.text)
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.usage.output_tokens < free.usage.output_tokens


def test_seed_and_temperature_zero_reproduce(local_provider):
    first = ask(
        local_provider,
        "Write a short sentence about the sea.",
        temperature=0,
        seed=3,
        max_tokens=24,
    )
    second = ask(
        local_provider,
        "Write a short sentence about the sea.",
        temperature=0,
        seed=3,
        max_tokens=24,
    )
    assert first.text == second.text


def test_same_seed_reproduces_at_high_temperature(local_provider):
    kwargs = {"temperature": 1.2, "seed": 11, "max_tokens": 24}
    assert (
        ask(local_provider, "Name three animals.", **kwargs).text
        == ask(local_provider, "Name three animals.", **kwargs).text
    )


def test_n_five_returns_five_choices_reusing_the_prompt_kv_cache(local_provider):
    prompt = "Give me a random fruit name. " + "Please answer briefly. " * 10
    before = local_provider.prompt_tokens_evaluated
    completion = ask(local_provider, prompt, n=5, temperature=1.0, seed=5, max_tokens=8)
    evaluated = local_provider.prompt_tokens_evaluated - before
    assert len(completion.choices) == 5
    assert [c.index for c in completion.choices] == [0, 1, 2, 3, 4]
    assert len(set(completion.texts)) > 1  # distinct seeds give distinct samples
    prompt_tokens = completion.usage.input_tokens // 5
    # Without KV reuse llama.cpp would evaluate the prompt 5 times; with it, once plus
    # at most a few tokens per later sample.
    assert evaluated < prompt_tokens + 4 * 5, (evaluated, prompt_tokens)
    assert completion.usage.cached_input_tokens >= 4 * (prompt_tokens - 5)


def test_logprobs_come_back_for_each_token(local_provider):
    completion = ask(
        local_provider, "Say hello.", temperature=0, max_tokens=6, logprobs=True, top_logprobs=3
    )
    tokens = completion.choices[0].logprobs
    assert tokens and all(t.logprob <= 0 for t in tokens)
    assert all(len(t.top) == 3 for t in tokens)
    # Greedy decoding picks the likeliest token, so it tops the alternatives.
    assert all(abs(t.top[0][1] - t.logprob) < 1e-4 for t in tokens)


def test_penalties_change_repetitive_output(local_provider):
    prompt = "Repeat the word 'cat' many times."
    plain = ask(local_provider, prompt, temperature=0, max_tokens=40, seed=0)
    penalised = ask(
        local_provider,
        prompt,
        temperature=0,
        max_tokens=40,
        seed=0,
        frequency_penalty=2.0,
        presence_penalty=2.0,
    )
    assert plain.text != penalised.text
    assert penalised.text.lower().count("cat") < plain.text.lower().count("cat")


def test_missing_model_file_says_what_to_do(tmp_path):
    from promptlab import ConfigurationError, LlamaCppProvider

    with pytest.raises(ConfigurationError, match="no such GGUF file"):
        LlamaCppProvider(tmp_path / "nope.gguf")


def test_a_seeded_sample_is_the_same_in_whichever_request_draws_it(local_provider):
    # SelfConsistency with stopping draws samples 0-3 in one request and 4-7 in the next
    # (request.for_samples); sample k must be exactly the sample an n=8 request gives, or
    # an adaptive re-run silently sees other samples than the fixed run. On this prompt
    # llama.cpp's log-probabilities for the first generated token differ by ~0.07 between
    # a prompt evaluated in one batch and its last token evaluated alone after the cached
    # prefix (how a request's later samples get it), so the provider must compute every
    # sample the same way, first in its request or not.
    cot = ChainOfThought(extractor="numeric")
    question = {"question": "Tom has 3 apples. He buys 2 more. How many apples does he have?"}
    request = CompletionRequest(
        cot.template.render(cot.template_inputs(question)),
        GenerationParams(temperature=0.7, seed=0, n=3, max_tokens=3, logprobs=True),
    )
    whole = local_provider.complete_sync(request)
    later = local_provider.complete_sync(request.for_samples(1, 2))
    alone = local_provider.complete_sync(request.for_samples(2, None))

    def logprobs(choices):
        return [[t.logprob for t in c.logprobs or ()] for c in choices]

    for drawn, expected in ((later, whole.choices[1:]), (alone, whole.choices[2:])):
        assert drawn.texts == [c.text for c in expected]
        assert logprobs(drawn.choices) == logprobs(expected)
