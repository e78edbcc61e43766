"""The workflow harness's `${{ }}` evaluator follows GitHub's expression rules."""

import pytest

from tests.harness.expressions import evaluate, interpolate

CONTEXT = {
    "github": {
        "event_name": "pull_request",
        "repository": "fmnist/fmnist",
        "event": {
            "pull_request": {"number": 7, "base": {"sha": "abc"}, "head": {"repo": {"full_name": "fork/fmnist"}}}
        },
    },
    "env": {"CAN_COMMENT": "false"},
    "needs": {"plan": {"outputs": {"matrix": '{"include": [{"point": 1}]}'}}},
    "_status": "success",
}


CASES = [
    ("github.event.pull_request.base.sha || github.sha", "abc"),
    ("github.event.inputs.overrides", None),
    ("github.event.pull_request.head.repo.full_name == github.repository", False),
    ("github.event_name == 'PULL_REQUEST'", True),  # string comparison ignores case
    ("env.CAN_COMMENT == 'true'", False),
    ("!contains(github.repository, 'fork') && 1 < 2", True),
    ("fromJSON(needs.plan.outputs.matrix).include[0].point", 1),
    ("format('{0}-{1}', 'dvc', 42)", "dvc-42"),
    ("format('{{0}} is {0}', 'x')", "{0} is x"),  # doubled braces are literal, as on GitHub
    ("format('{{{0}}}', 'x')", "{x}"),
    ("success() && !failure()", True),
    ("always()", True),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_expressions(expression, expected):
    assert evaluate(expression, CONTEXT) == expected
    assert evaluate("${{ " + expression + " }}", CONTEXT) == expected


def test_interpolation_in_text_and_whole_values():
    assert interpolate("pr ${{ github.event.pull_request.number }}: ${{ env.NOPE }}.", CONTEXT) == "pr 7: ."
    assert interpolate("${{ fromJSON(needs.plan.outputs.matrix) }}", CONTEXT) == {"include": [{"point": 1}]}
    with pytest.raises(AssertionError, match="unknown function"):
        evaluate("hashFile('x')", CONTEXT)


@pytest.mark.parametrize("template", ["{1}", "{x}", "a } b", "{0"])
def test_format_refuses_what_github_refuses(template):
    with pytest.raises(AssertionError, match="format"):
        evaluate(f"format('{template}', 'only')", CONTEXT)
