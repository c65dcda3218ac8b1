"""Scorers: each kind on real strategy results from FakeProvider, plus specs and the judge."""

from __future__ import annotations

import math

import pytest

from promptlab.completion import Choice, Completion, TokenLogprob
from promptlab.errors import ConfigurationError, ServerError
from promptlab.experiments.config import scorer_from_spec
from promptlab.experiments.scoring import (
    CallableScorer,
    ChoiceMatch,
    Contains,
    ExactMatch,
    JsonValid,
    JudgeScorer,
    NormalizedMatch,
    NumericMatch,
    Perplexity,
    RegexMatch,
    Score,
    Scorer,
    parse_verdict,
    score_result,
)
from promptlab.experiments.tasks import Task
from promptlab.strategies import SelfConsistency, ZeroShot
from promptlab.strategies.base import Sample, StrategyResult
from promptlab.testing import FakeProvider


def task(expected: object, question: str = "What is 6 x 7?") -> Task:
    return Task(id="t1", inputs={"question": question}, expected=expected)


async def reply(text: str, extractor: str = "numeric") -> StrategyResult:
    """A real ZeroShot result whose model reply is ``text``."""
    return await ZeroShot(extractor=extractor).arun({"question": "q"}, FakeProvider([text]))


def result_with_logprobs(*choices: tuple[float, ...] | None) -> StrategyResult:
    built = tuple(
        Choice("x", "stop", None if lps is None else tuple(TokenLogprob("t", v) for v in lps), i)
        for i, lps in enumerate(choices)
    )
    return StrategyResult(
        answer="x",
        samples=tuple(Sample("x", "x") for _ in built),
        messages=(),
        usage=Completion(built).usage,
        latency_s=0.0,
        cost_usd=0.0,
        calls=1,
        strategy="s",
        template="t",
        template_hash="h",
        params=ZeroShot().params,
        completions=(Completion(built),),
    )


async def test_numeric_match_normalises_both_sides() -> None:
    result = await reply("She pays $1,000.00 in all. Answer: $1,000.00")
    assert (await NumericMatch().score(task("1000"), result)).value == 1.0
    assert (await NumericMatch().score(task(1000.0), result)).value == 1.0
    assert (await NumericMatch().score(task("999"), result)).value == 0.0


async def test_numeric_tolerance_absolute_and_relative() -> None:
    result = await reply("Answer: 3.14159")
    assert (await NumericMatch().score(task("3.14"), result)).value == 0.0
    assert (await NumericMatch(tolerance=0.01).score(task("3.14"), result)).value == 1.0
    assert (await NumericMatch(tolerance=0.001).score(task("3.14"), result)).value == 0.0
    assert (await NumericMatch(relative_tolerance=0.001).score(task("3.14"), result)).value == 1.0
    with pytest.raises(ConfigurationError, match="tolerance=-1"):
        NumericMatch(tolerance=-1)


async def test_no_answer_scores_zero_not_nan() -> None:
    result = await reply("I do not know.")
    assert result.answer is None
    score = await NumericMatch().score(task("42"), result)
    assert score.value == 0.0
    assert "no answer" in score.note


async def test_non_numeric_expected_is_nan_with_note() -> None:
    score = await NumericMatch().score(task("forty-two"), await reply("Answer: 42"))
    assert math.isnan(score.value)
    assert "not a number" in score.note


async def test_exact_and_normalized_match() -> None:
    result = await reply("Answer: The Eiffel  Tower.", extractor=lambda text: text[8:])
    assert (await ExactMatch().score(task("The Eiffel  Tower."), result)).value == 1.0
    assert (await ExactMatch().score(task("the eiffel tower"), result)).value == 0.0
    assert (await NormalizedMatch().score(task("the eiffel tower"), result)).value == 1.0
    assert (await NormalizedMatch().score(task("the tower"), result)).value == 0.0


async def test_contains_reads_answer_or_text() -> None:
    result = await reply("Paris is lovely.\nAnswer: it is Paris, France", extractor="text")
    assert (await Contains().score(task("paris"), result)).value == 1.0
    case_sensitive = Contains(case_sensitive=True, target="text")
    assert (await case_sensitive.score(task("paris"), result)).value == 0.0
    assert (await case_sensitive.score(task("Paris"), result)).value == 1.0
    assert (await Contains().score(task("lovely"), result)).value == 0.0
    assert (await Contains(target="text").score(task("lovely"), result)).value == 1.0
    assert (await Contains("france").score(task("ignored"), result)).value == 1.0


async def test_regex_search_and_fullmatch() -> None:
    result = await reply("Reasoning...\nAnswer: 42")
    assert (await RegexMatch(r"Answer: \d+").score(task(None), result)).value == 1.0
    assert (await RegexMatch(r"Answer: \d+", mode="fullmatch").score(task(None), result)).value == 0
    full = RegexMatch(r"\d+", mode="fullmatch", target="answer")
    assert (await full.score(task(None), result)).value == 1.0
    with pytest.raises(ConfigurationError, match="not a valid regular expression"):
        RegexMatch("(")


async def test_choice_letter() -> None:
    result = await reply("The answer is (b).", extractor="choice")
    assert (await ChoiceMatch().score(task("B"), result)).value == 1.0
    assert (await ChoiceMatch().score(task("(B)"), result)).value == 1.0
    assert (await ChoiceMatch().score(task("C"), result)).value == 0.0


async def test_json_valid_with_and_without_fences() -> None:
    fenced = await reply('```json\n{"a": 1}\n```', extractor="text")
    broken = await reply('{"a": 1', extractor="text")
    assert (await JsonValid().score(task(None), fenced)).value == 1.0
    assert (await JsonValid(strip_fences=False).score(task(None), fenced)).value == 0.0
    score = await JsonValid().score(task(None), broken)
    assert score.value == 0.0
    assert "invalid JSON" in score.note


async def test_answer_scorers_read_the_vote_winner() -> None:
    fake = FakeProvider(["Answer: 5", "Answer: 7", "Answer: 7"])
    result = await SelfConsistency(ZeroShot(extractor="numeric"), n=3).arun({"question": "q"}, fake)
    assert result.answer == "7"
    assert (await NumericMatch().score(task("7"), result)).value == 1.0
    # Reply-form scorers read the winning sample's text, not the first sample's.
    assert (await RegexMatch("7").score(task(None), result)).value == 1.0


async def test_callable_scorer_bool_float_score_and_async() -> None:
    result = await reply("Answer: 42")
    assert (await CallableScorer(lambda t, r: r.answer == "42").score(task(1), result)).value == 1
    graded_float = CallableScorer(lambda t, r: 0.25, binary=False)
    assert (await graded_float.score(task(1), result)).value == 0.25

    async def graded(t: Task, r: StrategyResult) -> Score:
        return Score(0.5, "half")

    scorer = CallableScorer(graded)
    assert scorer.name == "graded"
    assert await scorer.score(task(1), result) == Score(0.5, "half")
    with pytest.raises(ConfigurationError, match="must return a float"):
        await CallableScorer(lambda t, r: "yes").score(task(1), result)


async def test_perplexity_from_known_logprobs() -> None:
    score = await Perplexity().score(task(None), result_with_logprobs((-1.0, -3.0)))
    assert score.value == pytest.approx(math.exp(2.0))
    # Tokens are pooled across samples; a sample without logprobs is skipped.
    pooled = await Perplexity().score(task(None), result_with_logprobs((-1.0,), None, (-3.0,)))
    assert pooled.value == pytest.approx(math.exp(2.0))
    assert Perplexity().binary is False


async def test_perplexity_without_logprobs_is_nan_with_note() -> None:
    score = await Perplexity().score(task(None), await reply("Answer: 1"))
    assert math.isnan(score.value)
    assert score.note == "provider returned no logprobs (request logprobs=True)"


async def test_perplexity_through_fake_provider_logprobs() -> None:
    result = await ZeroShot().arun({"question": "q"}, FakeProvider(["two words"]), logprobs=True)
    assert (await Perplexity().score(task(None), result)).value == pytest.approx(2.0)


async def test_judge_pass_fail_stores_reasoning() -> None:
    judge_model = FakeProvider(["The reply computes 6 x 7 correctly.\nVerdict: PASS"])
    judge = JudgeScorer(judge_model, rubric="The answer is correct.")
    result = await reply("6 x 7 = 42. Answer: 42")
    score = await judge.score(task("42"), result)
    assert score.value == 1.0
    assert score.note == "The reply computes 6 x 7 correctly.\nVerdict: PASS"
    prompt = "\n".join(m.content for m in judge_model.requests[0].messages)
    assert "The answer is correct." in prompt
    assert "What is 6 x 7?" in prompt
    assert "6 x 7 = 42. Answer: 42" in prompt
    assert judge_model.requests[0].params.temperature == 0.0


async def test_judge_fail_scale_and_unparseable() -> None:
    result = await reply("Answer: 41")
    failing = JudgeScorer(FakeProvider(["Off by one.\nVerdict: FAIL"]), rubric="Correct.")
    assert (await failing.score(task("42"), result)).value == 0.0
    graded = JudgeScorer(FakeProvider(["Mostly right. Score: 7/10"]), rubric="r", scale=(1, 10))
    assert (await graded.score(task("42"), result)).value == 7.0
    assert graded.binary is False
    rambling = JudgeScorer(FakeProvider(["I cannot decide."]), rubric="Correct.")
    score = await rambling.score(task("42"), result)
    assert math.isnan(score.value)
    assert "no readable verdict" in score.note and "I cannot decide." in score.note
    out_of_range = JudgeScorer(FakeProvider(["Score: 11"]), rubric="r", scale=(1, 10))
    assert math.isnan((await out_of_range.score(task("42"), result)).value)


async def test_judge_custom_template_and_provider_errors_propagate() -> None:
    judge_model = FakeProvider(["PASS"])
    judge = JudgeScorer(
        judge_model,
        rubric="Be kind.",
        template="{% user %}{{ rubric }} | {{ answer }} | {{ expected }}{% enduser %}",
    )
    assert (await judge.score(task("42"), await reply("Answer: 42"))).value == 1.0
    assert judge_model.requests[0].messages[0].content == "Be kind. | 42 | 42"
    broken = JudgeScorer(FakeProvider([ServerError("down", provider="fake")]), rubric="r")
    with pytest.raises(ServerError):
        await broken.score(task("42"), await reply("Answer: 42"))


def test_scorer_from_spec_strings_and_dicts() -> None:
    for kind in ("numeric", "exact", "normalized", "contains", "choice", "json_valid"):
        scorer = scorer_from_spec(kind)
        assert isinstance(scorer, Scorer)
        assert scorer.name == kind
        assert scorer.binary is True
    assert scorer_from_spec("perplexity").binary is False
    numeric = scorer_from_spec({"type": "numeric", "tolerance": 0.01, "name": "num"})
    assert isinstance(numeric, NumericMatch)
    assert (numeric.tolerance, numeric.name) == (0.01, "num")
    regex = scorer_from_spec({"type": "regex", "pattern": "^a", "ignore_case": True})
    assert isinstance(regex, RegexMatch) and regex.pattern.match("A")
    judge = scorer_from_spec({"type": "llm_judge", "provider": "fake:Verdict: PASS", "rubric": "r"})
    assert isinstance(judge, JudgeScorer) and judge.name == "judge"
    ready = ExactMatch()
    assert scorer_from_spec(ready) is ready


async def test_judge_spec_builds_its_provider_from_a_string() -> None:
    judge = scorer_from_spec({"type": "llm_judge", "provider": "fake:Verdict: PASS", "rubric": "r"})
    assert (await judge.score(task("42"), await reply("Answer: 42"))).value == 1.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bleu", r"Unknown scorer type 'bleu'. Known types: exact, normalized, numeric"),
        ({"tolerance": 1}, "has no 'type' field"),
        ({"type": "numeric", "tol": 1}, r"does not take the field\(s\) \['tol'\]"),
        ({"type": "regex"}, r"needs the field\(s\) \['pattern'\]"),
        ({"type": "llm_judge", "provider": "local"}, r"needs the field\(s\) \['rubric'\]"),
        ({"type": "numeric", "tolerance": "big"}, "tolerance='big' is not allowed"),
        (42, "is not allowed: use a type name"),
    ],
)
def test_scorer_from_spec_errors_name_the_problem(spec: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        scorer_from_spec(spec)  # type: ignore[arg-type]


# --- scores that cannot be computed are NaN with a note (issue 8, item 4) ------------------


@pytest.mark.parametrize(
    ("logprobs", "note"),
    [
        ((-1.0, -math.inf), "logprob -inf (probability 0); perplexity is infinite"),
        ((-800.0, -900.0), "too large for a float (mean token logprob -850)"),
        ((-1.0, math.nan), "a token logprob is NaN"),
    ],
)
async def test_perplexity_that_is_not_finite_is_nan_with_a_note(
    logprobs: tuple[float, ...], note: str
) -> None:
    score = await Perplexity().score(task(None), result_with_logprobs(logprobs))
    assert math.isnan(score.value)
    assert note in score.note


async def test_one_failing_scorer_leaves_the_others_alone() -> None:
    result = result_with_logprobs((-800.0, -900.0))  # perplexity overflows exp()

    class Infinite:
        name, binary = "infinite", False

        async def score(self, task: object, result: object) -> Score:
            return Score(math.inf, "huge")

    class Broken:
        name, binary = "broken", True

        async def score(self, task: object, result: object) -> Score:
            raise OverflowError("math range error")

    exact = ExactMatch()
    scores, notes = await score_result(
        [Perplexity(), Infinite(), Broken(), exact], task("x"), result
    )
    assert scores["exact"] == 1.0  # the answer "x" is right whatever the others did
    assert "exact" not in notes
    assert math.isnan(scores["perplexity"]) and "too large" in notes["perplexity"]
    assert math.isnan(scores["infinite"])
    assert notes["infinite"] == "score was inf, not a finite number (huge)"
    assert math.isnan(scores["broken"])
    assert notes["broken"] == "scorer failed: OverflowError: math range error"


# --- judge verdicts in the forms judges write (issue 8, item 6) ------------------------------

PASS_FAIL_VERDICTS = [
    ("Reasoning.\nVerdict: PASS", 1.0),
    ("Verdict: FAIL", 0.0),
    ("**Verdict**: PASS", 1.0),
    ("**Verdict:** PASS", 1.0),
    ("Verdict - PASS", 1.0),
    ("Verdict — FAIL", 0.0),
    ("Verdict: PASSED", 1.0),
    ("Verdict: FAILED", 0.0),
    ("Looks good.\nPASSED", 1.0),
    ("Wrong total.\nFAILED", 0.0),
    ("**PASS**", 1.0),
    ("Final verdict: **FAIL**", 0.0),
    ("## Verdict: PASS", 1.0),
    ("Verdict = PASS", 1.0),
    ("VERDICT: Pass.", 1.0),
    ("Verdict: FAIL (the total is wrong)", 0.0),
    ("Verdict: **PASS** — the answer matches.", 1.0),
    ("My verdict is PASS", 1.0),
    ("Verdict:\nPASS", 1.0),
    ("verdict: yes", 1.0),
    ("Verdict: no", 0.0),
    ("Verdict: correct", 1.0),
    ("Verdict: incorrect", 0.0),
    # The judge's own final verdict wins over a quoted example after it.
    ("Verdict: FAIL\n\nFor reference, a passing reply ends:\n> Verdict: PASS", 0.0),
    ("Verdict: FAIL\n```\nVerdict: PASS\n```", 0.0),
    ('Verdict: FAIL\nA good answer would end with "Verdict: PASS".', 0.0),
    ("Use `Verdict: PASS` only if right.\nVerdict: FAIL", 0.0),
    ("It fails on one step.\nVerdict: FAIL\nA top answer gets “Verdict: PASS”", 0.0),
    # Self-correction: the last verdict counts.
    ("Verdict: PASS\nOn second thought, step 2 is wrong.\nVerdict: FAIL", 0.0),
    # Structured (JSON) verdicts come first.
    ('{"verdict": "PASS", "reasoning": "ok"}', 1.0),
    ('Step 2 is wrong.\n```json\n{"verdict": "FAIL"}\n```', 0.0),
    ('{"Verdict": true}', 1.0),
    ('Verdict: FAIL\n> e.g. {"verdict": "PASS"}', 0.0),
    # Not verdicts.
    ("I cannot decide.", None),
    ("The response should PASS if it is correct.", None),
    ("Verdict: N/A", None),
    ('{"verdict": "maybe"}', None),
]

SCALE_VERDICTS = [
    ("Score: 4/5", 4.0),
    ("Score: 4", 4.0),
    ("**Score**: 3", 3.0),
    ("Score - 2", 2.0),
    ("Score: 4 out of 5", 4.0),
    ("Score: 4.5/5", 4.5),
    ("Final score: 3/5.", 3.0),
    ("Score: 2\n\nA top answer would get:\n> Score: 5", 2.0),
    ("Score: 5\nOn reflection, one step is wrong. Score: 3", 3.0),
    ('{"score": 4}', 4.0),
    ('{"score": "4/5"}', 4.0),
    ("Score: 4/10", None),  # out of 10 is another scale
    ("Score: 6", None),  # outside 1..5
    ('{"score": 9}', None),
    ("No score here.", None),
]


@pytest.mark.parametrize(("reply", "expected"), PASS_FAIL_VERDICTS)
def test_parse_pass_fail_verdicts(reply: str, expected: float | None) -> None:
    assert parse_verdict(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), SCALE_VERDICTS)
def test_parse_scale_verdicts(reply: str, expected: float | None) -> None:
    assert parse_verdict(reply, scale=(1, 5)) == expected


async def test_default_judge_prompt_asks_for_a_json_verdict() -> None:
    judge_model = FakeProvider(['Right.\n{"verdict": "PASS"}'])
    judge = JudgeScorer(judge_model, rubric="Correct.")
    assert (await judge.score(task("42"), await reply("Answer: 42"))).value == 1.0
    prompt = judge_model.requests[0].messages[-1].content
    assert '{"verdict": "PASS"} or {"verdict": "FAIL"}' in prompt
    graded_model = FakeProvider(['{"score": 4}'])
    graded = JudgeScorer(graded_model, rubric="r", scale=(1, 5))
    assert (await graded.score(task("42"), await reply("Answer: 42"))).value == 4.0
    assert '{"score": <a number from 1.0 to 5.0>}' in graded_model.requests[0].messages[-1].content
