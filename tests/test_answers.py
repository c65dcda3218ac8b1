import pytest

from promptlab import (
    CallableAnswer,
    ChoiceAnswer,
    ConfigurationError,
    NumericAnswer,
    RegexAnswer,
    TextAnswer,
    YesNoAnswer,
)
from promptlab.answers import as_extractor, final_answer_span


@pytest.mark.parametrize("text", ["1,000", "$1000.00", "1000.", "Answer: 1000", "$ 1,000"])
def test_numeric_forms_of_one_thousand_are_equal(text):
    assert NumericAnswer().extract(text) == "1000"


def test_numeric_prefers_the_answer_line_over_earlier_numbers():
    text = "First 12 + 7 = 19, then minus 3 gives 16.\nAnswer: 16 apples"
    assert NumericAnswer().extract(text) == "16"


def test_numeric_falls_back_to_last_number_and_handles_decimals_and_negatives():
    assert NumericAnswer().extract("It is 3 then 4.50") == "4.5"
    assert NumericAnswer().extract("The result is -7.") == "-7"
    assert NumericAnswer().extract("no digits here") is None


def test_numeric_normalize_rejects_non_numbers():
    assert NumericAnswer().normalize("abc") is None
    assert NumericAnswer().normalize(19.0) == "19"


def test_choice_letter():
    extractor = ChoiceAnswer("ABCD")
    assert extractor.extract("I think (C) is right.\nAnswer: C") == "C"
    assert extractor.extract("The answer is b") == "B"
    assert extractor.extract("B) because ...") == "B"
    assert extractor.extract("None fit.") is None
    assert extractor.normalize("(d)") == "D"
    assert extractor.normalize("E") is None


def test_yes_no():
    extractor = YesNoAnswer()
    assert extractor.extract("Answer: Yes, it is.") == "yes"
    assert extractor.extract("That is false.") == "no"
    assert extractor.extract("maybe") is None
    assert extractor.normalize(True) == "yes"


def test_regex_and_callable_and_text():
    assert RegexAnswer(r"ID-(\d+)").extract("ref ID-42 done") == "42"
    assert RegexAnswer(r"ID-\d+").extract("ref ID-42 done") == "ID-42"
    assert CallableAnswer(lambda t: t[::-1]).extract("abc") == "cba"
    assert TextAnswer().extract("Answer: Paris!") == "paris"


def test_final_answer_span_variants():
    assert final_answer_span("blah\nThe answer is 12.") == "12."
    assert final_answer_span("#### 7") == "7"
    assert final_answer_span("\\boxed{5}") == "5}"
    assert final_answer_span("nothing") is None


def test_extractor_kinds_by_name_and_unknown_kind():
    assert isinstance(as_extractor("numeric"), NumericAnswer)
    with pytest.raises(ConfigurationError, match="Unknown answer kind 'number'"):
        as_extractor("number")
