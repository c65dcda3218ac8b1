"""Perplexity totals, corpus aggregation, word counting and rolling windows (no model)."""

from __future__ import annotations

import math

import pytest

from promptlab import Message, PerplexityResult, PromptLogprobs
from promptlab.errors import ConfigurationError
from promptlab.likelihood import count_words, rolling_windows, scoring_parts


def test_corpus_aggregation_matches_a_hand_computed_example() -> None:
    # Text A: "Hi there" (8 bytes, 2 words), three tokens with logprobs -1, -2, -0.5.
    # Text B: "Bye." (4 bytes, 1 word), two tokens with logprobs -3, -1.5.
    a = PromptLogprobs("Hi there", ("Hi", " the", "re"), (-1.0, -2.0, -0.5)).result()
    b = PromptLogprobs("Bye.", ("Bye", "."), (-3.0, -1.5)).result()
    corpus = a + b
    # Totals: NLL 3.5 + 4.5 = 8; 5 tokens; 3 words; 12 bytes.
    assert (corpus.nll, corpus.tokens, corpus.words, corpus.bytes, corpus.texts) == (
        8.0,
        5,
        3,
        12,
        2,
    )
    assert corpus.token_perplexity == pytest.approx(math.exp(8 / 5), rel=1e-12)
    assert corpus.word_perplexity == pytest.approx(math.exp(8 / 3), rel=1e-12)
    assert corpus.byte_perplexity == pytest.approx(math.exp(8 / 12), rel=1e-12)
    assert corpus.bits_per_byte == pytest.approx(8 / (math.log(2) * 12), rel=1e-12)
    # Corpus level is not the mean of the per-text values.
    mean_of_texts = (a.word_perplexity + b.word_perplexity) / 2
    assert corpus.word_perplexity != pytest.approx(mean_of_texts)
    assert PerplexityResult.total([a, b]) == corpus


def test_totals_survive_a_stored_note_and_keep_composing() -> None:
    result = PerplexityResult(nll=2.5, tokens=4, words=3, bytes=17, texts=2, unscored_tokens=1)
    assert PerplexityResult.from_dict(result.to_dict()) == result
    with pytest.raises(ConfigurationError, match="needs nll, tokens, words and bytes"):
        PerplexityResult.from_dict({"nll": 1.0})


def test_a_token_without_logprob_is_counted_as_unscored_not_as_zero() -> None:
    result = PromptLogprobs("a b", ("a", " b"), (None, -2.0)).result()
    assert (result.nll, result.tokens, result.unscored_tokens) == (2.0, 1, 1)
    assert result.words == 2 and result.bytes == 3


def test_metric_by_name_and_unknown_metric() -> None:
    result = PerplexityResult(nll=math.log(2) * 8, tokens=8, words=4, bytes=8)
    assert result.metric("bits_per_byte") == pytest.approx(1.0)
    assert result.metric("token_perplexity") == pytest.approx(2.0)
    with pytest.raises(ConfigurationError, match="word_perplexity"):
        result.metric("perplexity")


@pytest.mark.parametrize(
    ("text", "words"),
    [("Hello, world!", 2), ("  spaced\tout\nlines  ", 3), ("l'été  à Paris", 3), ("", 0)],
)
def test_words_are_runs_of_non_whitespace(text: str, words: int) -> None:
    assert count_words(text) == words


def test_rolling_windows_score_every_position_once_with_context() -> None:
    windows = list(rolling_windows(length=23, first=1, size=8, stride=3))
    scored = [i for _, start, end in windows for i in range(start, end)]
    assert scored == list(range(1, 23))
    for begin, start, end in windows:
        assert end - begin <= 8 and begin < start
        if start > 1:  # after the first window: at least size - stride tokens of context
            assert start - begin >= 8 - 3


def test_a_sequence_that_fits_is_one_window() -> None:
    assert list(rolling_windows(length=6, first=1, size=8, stride=4)) == [(0, 1, 6)]


def test_rolling_windows_after_a_long_context_start_at_the_scored_part() -> None:
    windows = list(rolling_windows(length=30, first=20, size=8, stride=4))
    assert windows[0] == (16, 20, 24)
    assert windows[-1][2] == 30


@pytest.mark.parametrize(("size", "stride"), [(8, 8), (8, 0), (1, 1)])
def test_rolling_windows_reject_strides_that_leave_no_context(size: int, stride: int) -> None:
    with pytest.raises(ConfigurationError):
        list(rolling_windows(length=20, first=1, size=size, stride=stride))


@pytest.mark.parametrize("bad", ["", ("context", ""), ("context",), 42, ([], "text")])
def test_empty_or_malformed_texts_are_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError):
        scoring_parts(bad)


def test_a_context_may_be_chat_messages() -> None:
    context, text = scoring_parts(([Message("user", "Hi")], "Hello"))
    assert context == (Message("user", "Hi"),) and text == "Hello"
