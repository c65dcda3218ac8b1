"""Answer extraction: tables of replies a user would read one obvious way, per extractor.

Each table row is (reply, expected answer). The rules they pin down are in
``promptlab/answers/_spans.py`` and ``_numbers.py``, and in the README's
"Answer extraction" paragraph.
"""

from decimal import Decimal
from fractions import Fraction

import pytest

from promptlab import (
    AutoAnswer,
    CallableAnswer,
    ChoiceAnswer,
    ConfigurationError,
    NumericAnswer,
    RegexAnswer,
    TextAnswer,
    YesNoAnswer,
)
from promptlab.answers import (
    EXTRACTOR_KINDS,
    as_extractor,
    final_answer_span,
    finished_answer_line,
    format_number,
    parse_number,
    reply_answer,
    stopped_for_length,
)

NUMERIC_TABLE = [
    # equation results and the last stated value
    ("The answer is 5 + 7 = 12.", "12"),
    ("Answer: 3 * 4 = 12 apples", "12"),
    ("The answer is 12 = 12.", "12"),
    ("The answer is 10, no wait, 12.", "12"),
    ("The answer is 10. Wait, it's 12.", "12"),
    ("The answer is 10. Actually, 12.", "12"),
    ("The answer is 12. Let me know if you need 2 more.", "12"),
    ("The answer is 12, not 10.", "12"),
    ("The answer is not 10 but 12.", "12"),
    ("The answer is 12 because there are 3 boxes of 4.", "12"),
    ("Answer: 12 (3 boxes × 4 apples)", "12"),
    ("The answer is a tough one. Let me think: 5 + 7 = 12.", "12"),
    ("First 12 + 7 = 19, then minus 3 gives 16.\nAnswer: 16 apples", "16"),
    ("#### 72", "72"),
    ("\\boxed{42}", "42"),
    ("**Answer:** 18", "18"),
    ("The final answer is $18$. I hope it is correct.", "18"),
    # thousands separators and currency
    ("1,000", "1000"),
    ("$1000.00", "1000"),
    ("The answer is $1,000.00.", "1000"),
    ("Answer: 1000.", "1000"),
    ("$ 1,000", "1000"),
    ("It costs €2,500 in total.", "2500"),
    ("Answer: 1,000, 2,000 and 3,000", "3000"),
    # signs: ASCII and Unicode minus, never a range or a hyphenated word
    ("The result is -7.", "-7"),
    ("Answer: \u22125", "-5"),
    ("The change is \u22123.5 degrees.", "-3.5"),
    ("Answer: -$5", "-5"),
    ("It takes 3-4 hours.", None),
    ("Answer: 3-4 hours", None),
    ("It takes 3\u20134 hours, so plan for 5.", "5"),
    ("About 3-4 hours each, 2 times: Answer: 8", "8"),
    ("COVID-19 cases", "19"),
    # fractions, exponents, decimals
    ("Answer: 3/4", "0.75"),
    ("Answer: \\frac{3}{4}", "0.75"),
    ("\\boxed{\\dfrac{1}{3}}", "1/3"),
    ("Answer: -\\frac{5}{2}", "-2.5"),
    ("Answer: 2 3/4 cups", "2.75"),
    ("Answer: 1/0", None),
    ("Answer: 1e3", "1000"),
    ("Answer: 1.5×10^3", "1500"),
    ("Answer: 2.5 x 10^{-2}", "0.025"),
    ("It is 3 then 4.50", "4.5"),
    ("Answer: 0.50", "0.5"),
    ("Answer: 25%", "25"),
    # no answer
    ("no digits here", None),
    ("H2O is water.", None),
]

CHOICE_TABLE = [
    ("B", "B"),
    ("(B)", "B"),
    ("B)", "B"),
    ("B.", "B"),
    ("Answer: B", "B"),
    ("Answer: (B)", "B"),
    ("Answer: B)", "B"),
    ("Answer: **B**", "B"),
    ("**Answer:** B", "B"),
    ("The answer is b", "B"),
    ("The answer is (c).", "C"),
    ("The answer is option D.", "D"),
    ("\\boxed{C}", "C"),
    ("I think (C) is right.\nAnswer: C", "C"),
    ("B) because the others are wrong", "B"),
    ("B. Paris is the capital.", "B"),
    ("I choose option B.", "B"),
    ("The correct choice is (A).", "A"),
    ("Options (A) and (B) are wrong, so (C).", "C"),
    ("Answer: B, not C.", "B"),
    ("Answer: not A but B", "B"),
    ("Answer: A is correct", "A"),
    ("Answer: A. B is wrong because it ignores friction.", "A"),
    ("Answer: A. Wait, no. B.", "B"),
    ("Answer: C, since A and B ignore friction.", "C"),
    ("The answer is A tough one, but B fits.", "B"),
    ("Answer: B [because A is wrong]", "B"),
    ("Answer:\nD", "D"),
    ("Final answer: (d)", "D"),
    # letters inside words, articles, pronouns and ordinary capitals are not answers
    ("Answer: I'd say B", "B"),
    ("The answer: I'd pick neither.", None),
    ("I'd go with that one.", None),
    ("I'd say so.", None),
    ("The answer is a tough one…", None),
    ("The answer is a tough one, I'd say.", None),
    ("This is about Vitamin C.", None),
    ("A tough question. I am not sure.", None),
    ("Plan B is to wait.", None),
    ("None fit.", None),
    ("Answer: I don't know", None),
    ("Answer: E", None),
    ("C'est la vie.", None),
    ("The vitamins A and D matter.", None),
]

YES_NO_TABLE = [
    ("Yes", "yes"),
    ("No", "no"),
    ("yes.", "yes"),
    ("No.", "no"),
    ("Answer: Yes, it is.", "yes"),
    ("Answer: No", "no"),
    ("The answer is yes.", "yes"),
    ("**Answer:** No", "no"),
    ("True", "yes"),
    ("False.", "no"),
    ("That is false.", "no"),
    ("That is true.", "yes"),
    ("That is not true.", "no"),
    ("Answer: not true", "no"),
    ("It isn't correct.", "no"),
    ("That's not correct.", "no"),
    ("It is not entirely true.", "no"),
    ("This doesn't seem correct.", "no"),
    ("It is not false.", "yes"),
    ("That is correct.", "yes"),
    ("That is incorrect.", "no"),
    ("The claim is wrong.", "no"),
    ("No, that's not right.", "no"),
    ("No, it isn't.", "no"),
    ("Yes, because it is not false.", "yes"),
    ("Answer: Yes, because nothing in the text says no.", "yes"),
    ("Yes... no, wait, it's false.", "no"),
    ("No. Actually, yes.", "yes"),
    ("Answer: No. Actually, yes.", "yes"),
    ("At first I thought yes, but no.", "no"),
    ("There is no doubt it is true.", "yes"),
    ("No further information is needed: yes.", "yes"),
    ("Yes. No other reading makes sense.", "yes"),
    ("Is it true or false? It is true.", "yes"),
    ("Yes or no? No.", "no"),
    ("The correct answer is no.", "no"),
    ("Answer: Yes\nNo further comment.", "yes"),
    ("maybe", None),
    ("I cannot tell.", None),
    ("There is no way to know.", None),
    ("The correct answer depends on the year.", None),
]

AUTO_TABLE = [
    ("The answer is 1,000.", "1000"),
    ("The answer is $1000.00", "1000"),
    ("I think 1000.", "1000"),
    ("1000", "1000"),
    ("Answer: 5 + 7 = 12", "12"),
    ("So the total is 12.", "12"),
    ("Let me add them.\n5 + 7 = 12", "12"),
    ("Answer: about 3/4", "0.75"),
    ("Answer: 1e3", "1000"),
    ("Answer: Paris!", "paris"),
    ("The answer is Paris.", "paris"),
    ("Answer: World War 2", "world war 2"),
    ("Answer: 12 apples", "12"),
    ("So the answer is 18 dollars per day.", "18"),
    ("The answer is 18 because she sells 9 eggs at $2.", "18"),
    ("The answer is 18, since 9 x 2 = 18.", "18"),
    ("Answer: 5 hours and 30 minutes", "5 hours and 30 minutes"),
    ("Answer: 7 Wonders of the World", "7 wonders of the world"),
    ("Answer: 1984 or 1985", "1984 or 1985"),
    ("Paris", "paris"),
    # more numbers that are one number
    ("The answer is −5.", "-5"),
    ("Answer: 3/4", "0.75"),
    ("\\boxed{\\frac{1}{3}}", "1/3"),
    ("#### 72", "72"),
    ("**Answer:** 18", "18"),
    ("The answer is: $18.", "18"),
    ("Therefore, the answer is 1,234,567.", "1234567"),
    ("Answer: approximately 3.14", "3.14"),
    ("Answer: 25%", "25"),
    ("I believe it's 42.", "42"),
    ("That's 7.", "7"),
    ("The answer is 12. Hope this helps!", "12"),
    ("Answer: 0.50", "0.5"),
    # and answers that are not one number stay text
    ("Answer: 3-4 hours", "3 4 hours"),
    ("Answer: B", "b"),
    ("Answer: Yes, it is.", "yes it is"),
    ("The answer is the Eiffel Tower.", "the eiffel tower"),
    ("Answer: Apollo 11", "apollo 11"),
    ("Answer: 221B Baker Street", "221b baker street"),
    ("Answer: between 10 and 20", "between 10 and 20"),
    ("I am not sure.", "i am not sure"),
]


@pytest.mark.parametrize(("reply", "expected"), NUMERIC_TABLE)
def test_numeric_table(reply, expected):
    assert NumericAnswer().extract(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), CHOICE_TABLE)
def test_choice_table(reply, expected):
    assert ChoiceAnswer("ABCD").extract(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), YES_NO_TABLE)
def test_yes_no_table(reply, expected):
    assert YesNoAnswer().extract(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), AUTO_TABLE)
def test_auto_table(reply, expected):
    assert AutoAnswer().extract(reply) == expected


def test_each_table_has_at_least_forty_rows():
    assert min(map(len, (NUMERIC_TABLE, CHOICE_TABLE, YES_NO_TABLE, AUTO_TABLE))) >= 40


@pytest.mark.parametrize("value", ["1e3", "1,000", "$1000.00", "1000.", 1000, 1000.0, "1.0E+3"])
def test_numeric_normalize_agrees_with_extract(value):
    assert NumericAnswer().normalize(value) == NumericAnswer().extract("Answer: 1000") == "1000"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [("abc", None), (19.0, "19"), (0.1, "0.1"), ("3/4", "0.75"), ("\\frac{2}{6}", "1/3"),
     ("\u22122", "-2"), ("**12**", "12"), ("$12$", "12"), (True, None), (float("nan"), None),
     ("12 apples", None), ("1e99999", None)],
)  # fmt: skip
def test_numeric_normalize(value, canonical):
    assert NumericAnswer().normalize(value) == canonical


def test_numbers_are_exact_fractions_with_canonical_text():
    assert parse_number("\\frac{1}{3}") == Fraction(1, 3)
    assert parse_number("0.1") + parse_number("0.2") == parse_number("0.3")
    assert [format_number(Fraction(n, d)) for n, d in [(3, 4), (-5, 2), (1, 3), (10, 1)]] == [
        "0.75",
        "-2.5",
        "1/3",
        "10",
    ]


def test_choice_normalize():
    extractor = ChoiceAnswer("ABCD")
    assert [extractor.normalize(v) for v in ["(d)", "B.", "**c**", "[a]", "E", "AB"]] == [
        "D",
        "B",
        "C",
        "A",
        None,
        None,
    ]


def test_choice_with_more_letters_still_ignores_the_pronoun():
    extractor = ChoiceAnswer("ABCDEFGHIJ")
    assert extractor.extract("Answer: I think it is G") == "G"
    assert extractor.extract("Answer: I") == "I"


def test_yes_no_normalize():
    extractor = YesNoAnswer()
    assert [extractor.normalize(v) for v in [True, False, "Yes.", "false", "maybe"]] == [
        "yes",
        "no",
        "yes",
        "no",
        None,
    ]


def test_regex_and_callable_and_text():
    assert RegexAnswer(r"ID-(\d+)").extract("ref ID-42 done") == "42"
    assert RegexAnswer(r"ID-\d+").extract("ref ID-42 done") == "ID-42"
    assert CallableAnswer(lambda t: t[::-1]).extract("abc") == "cba"
    assert TextAnswer().extract("Answer: Paris!") == "paris"


def test_final_answer_span_variants():
    assert final_answer_span("blah\nThe answer is 12.") == "12."
    assert final_answer_span("#### 7") == "7"
    assert final_answer_span("\\boxed{5}") == "5"
    assert final_answer_span("so \\boxed{\\frac{1}{2}} is it") == "\\frac{1}{2}"
    assert final_answer_span("cut \\boxed{12") == "12"
    assert final_answer_span("**Final Answer**: 9") == "9"
    assert final_answer_span("I answered it: 3") is None
    assert final_answer_span("nothing") is None


def test_the_default_extractor_is_auto_and_kinds_come_from_one_table():
    assert isinstance(as_extractor(None), AutoAnswer)
    assert isinstance(as_extractor("numeric"), NumericAnswer)
    assert set(EXTRACTOR_KINDS) == {"auto", "numeric", "choice", "yes_no", "text"}
    with pytest.raises(ConfigurationError, match="Unknown answer kind 'number'"):
        as_extractor("number")


def test_auto_normalizes_expected_answers_like_its_answers():
    auto = AutoAnswer()
    assert auto.normalize(1000) == auto.normalize("1,000") == auto.extract("I think 1000.")
    assert auto.normalize("Paris") == auto.extract("Answer: Paris.") == "paris"


@pytest.mark.parametrize("reason", ["length", "max_tokens", "LENGTH"])
def test_length_finish_reasons_from_every_provider_count_as_cut_off(reason):
    assert stopped_for_length(reason)


@pytest.mark.parametrize("reason", ["stop", "end_turn", None, "content_filter"])
def test_other_finish_reasons_are_not_cut_off(reason):
    assert not stopped_for_length(reason)


@pytest.mark.parametrize(
    ("reply", "finished"),
    [
        ("So 100 + 50 = 15", False),  # no marker: the half-printed 150
        ("The answer is 15", False),  # may be cut inside "150"
        ("The answer is 150.", True),
        ("The answer is 150.\nNow let me check", True),
        ("\\boxed{150}", True),
        ("#### 150", False),
        ("Answer:", False),
    ],
)
def test_finished_answer_line(reply, finished):
    assert finished_answer_line(reply) is finished


def test_a_cut_off_reply_without_a_finished_answer_line_has_no_answer():
    extract = NumericAnswer().extract
    assert extract("First 100 + 50 = 15") == "15"  # what the old code scored
    assert reply_answer(extract, "First 100 + 50 = 15", "length") is None
    assert reply_answer(extract, "First 100 + 50 = 15", "stop") == "15"
    assert reply_answer(extract, "Answer: 150.\nLet me double", "length") == "150"


@pytest.mark.parametrize("kind", sorted(EXTRACTOR_KINDS))
def test_experiment_files_accept_every_extractor_kind(kind, tmp_path):
    from promptlab.experiments.config import build_strategy

    strategy = build_strategy(
        {"strategy": "zero_shot", "extractor": kind}, ("arm",), tmp_path, None
    )
    assert type(strategy.extractor) is EXTRACTOR_KINDS[kind]


PLAIN_INTEGER_REPLIES = [
    "2 + 2 = 4.\nAnswer: 4",
    "Answer: 04",
    "Answer: +4",
    "Answer: -0",
    "Answer: 4.",
    "Answer: \u22125",
    "**Answer:** 18",
    "\\boxed{42}",
    "#### 72",
    "Answer: 123456789012345678901234567890",
    "Answer: \u0664",  # an Arabic-Indic digit: not ASCII, so the rules read it
    "Answer: 4..",
    "Answer: 4.0",
    "Answer: 4\nAnswer: 5",
    "Answer: 5\nThat is all.",
]


@pytest.mark.parametrize("reply", [r for r, _ in NUMERIC_TABLE] + PLAIN_INTEGER_REPLIES)
def test_the_plain_integer_shortcut_agrees_with_the_span_rules(reply):
    # extract() reads "Answer: 42" without the statement rules; read() always applies them.
    value = NumericAnswer().read(reply)
    assert NumericAnswer().extract(reply) == (None if value is None else format_number(value))


@pytest.mark.parametrize(
    "digits", ["0", "7", "0012", "1000", "9" * 30, "1" + "0" * 3999, "5" * 4000, "5" * 4301]
)
def test_plain_digits_read_as_every_other_spelling_of_the_number(digits):
    # Plain ASCII digits take a shortcut; the same digits in a wrapper take the full rules.
    assert parse_number(digits) == parse_number(f"**{digits}**") == parse_number(f"{digits}.")
    assert parse_number(digits) == Fraction(Decimal(digits))
