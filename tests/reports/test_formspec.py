"""reports.formspec's expressions: the closures a parsed expression evaluates with compute what the tree says
(reports.formspec._evaluate, the reference interpreter), for every shape the grammar allows."""

import pytest

from reports import formspec

EXPRESSIONS = [
    "a",
    "7",
    "a + b",
    "a + b + c",
    "(a + b) + c",
    "a + (b + c)",
    "a - b",
    "a * b - c",
    "-a + 3",
    "-(a - b) * 2",
    "a + 2 * b",
    "2 + a",
    "difficulties + a",
    "flag * a",
]

VALUES = [
    {"a": 3, "b": 5, "c": 11, "difficulties": "slow", "flag": True},
    {"a": 0, "b": 0, "c": 0, "difficulties": "", "flag": False},
    {"a": 2, "b": None, "c": 1, "difficulties": ["x", "y"], "flag": 1},
    {"a": 1, "c": 4},  # b missing
    {"a": 1.5, "b": 2, "c": 3},  # not a whole number: no value
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_compiled_expression_computes_what_the_tree_says(text):
    expression = formspec.parse_expression(text)
    for values in VALUES:
        assert expression.value(values) == formspec._evaluate(expression.tree, values), (text, values)


def test_a_sum_of_names_is_none_when_one_is_missing_and_counts_a_text_by_length():
    expression = formspec.parse_expression("a + b + c")
    assert expression.value({"a": 1, "b": 2, "c": 3}) == 6
    assert expression.value({"a": 1, "c": 3}) is None
    assert formspec.parse_expression("difficulties + a").value({"difficulties": "abc", "a": 1}) == 4
