"""Parameter specs: parsing the stpipe syntax, typed validation, layer merging."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pipeline_core.errors import ParameterError, StepError
from pipeline_core.config.params import (
    COMMON_SPEC,
    ParamSpec,
    merge_layers,
    parse_spec,
    raise_problems,
    validate,
)

SPEC = """
threshold = float(default=4.0, min=0)            # sigma threshold
ngroups = integer(default=1, min=1, max=10)      # groups to use
flag = boolean(default=True)
label = string(default='a # not a comment')      # the label
algorithm = option('OLS', 'OLS_C', default='OLS_C')  # fitting algorithm
firstgroup = integer(default=None)               # None: from the start
weights = float_list(default=list(1, 2.5))
indices = int_list(default=None, min=2, max=3)
names = string_list(default=list())
anything = list(default=list('a', 1))
forced = force_list(default=None)
cores = string(default='none')
"""


@pytest.fixture(scope="module")
def specs():
    return parse_spec(SPEC, owner="TestStep")


def test_parse_spec_reads_types_defaults_bounds_and_help(specs):
    assert list(specs) == [
        "threshold", "ngroups", "flag", "label", "algorithm", "firstgroup",
        "weights", "indices", "names", "anything", "forced", "cores",
    ]
    threshold = specs["threshold"]
    assert (threshold.kind, threshold.default, threshold.minimum, threshold.help) == (
        "float", 4.0, 0, "sigma threshold"
    )
    assert specs["label"].default == "a # not a comment"
    assert specs["label"].help == "the label"
    assert specs["algorithm"].options == ("OLS", "OLS_C")
    assert specs["firstgroup"].nullable and specs["firstgroup"].default is None
    assert not specs["threshold"].nullable
    assert specs["weights"].default == [1.0, 2.5]
    assert specs["anything"].default == ["a", 1]
    assert specs["names"].default == []


def test_positional_bounds_and_unquoted_options():
    specs = parse_spec("x = float(0, 10, default=5)\nm = option(none, all, default=none)")
    assert (specs["x"].minimum, specs["x"].maximum) == (0, 10)
    assert specs["m"].options == ("none", "all")
    assert specs["m"].default == "none"


def test_is_prefixed_checks_are_accepted():
    specs = parse_spec("x = is_string_list(default=None)\ny = is_integer(default=3)")
    assert specs["x"].kind == "string_list"
    assert specs["y"].default == 3


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("x float(default=1)", "expected `name = check(...)`"),
        ("x = flaot(default=1)", "unknown check 'flaot'"),
        ("x = float(default='abc')", "its default does not fit"),
        ("x = option(default='a')", "option() needs at least one choice"),
        ("x = float(default=1, mn=0)", "unknown arguments ['mn']"),
        ("x = float(default=(1)", "unbalanced"),
    ],
)
def test_malformed_spec_lines_name_the_owner_and_line(line, why):
    with pytest.raises(StepError, match=re.escape(why)) as info:
        parse_spec("ok = float(default=1)\n" + line, owner="MyStep.spec")
    assert "MyStep.spec: cannot parse spec line 2" in str(info.value)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("threshold", 3, 3.0),
        ("threshold", "3.5", 3.5),
        ("threshold", np.float32(2.0), 2.0),
        ("ngroups", "4", 4),
        ("ngroups", 4.0, 4),
        ("ngroups", np.int64(5), 5),
        ("flag", "no", False),
        ("flag", "TRUE", True),
        ("flag", 0, False),
        ("flag", np.bool_(True), True),
        ("label", 12, "12"),
        ("algorithm", "ols", "OLS"),
        ("firstgroup", None, None),
        ("firstgroup", "None", None),
        ("weights", "1, 2", [1.0, 2.0]),
        ("weights", (3, "4.5"), [3.0, 4.5]),
        ("weights", np.array([1, 2]), [1.0, 2.0]),
        ("indices", [1, 2, 3], [1, 2, 3]),
        ("names", "a,b", ["a", "b"]),
        ("names", "", []),
        ("forced", 5, [5]),
        ("cores", 4, "4"),
    ],
)
def test_values_are_coerced_to_their_type(specs, name, given, expected):
    converted, problems = validate("demo", specs, {name: given})
    assert problems == []
    assert converted[name] == expected
    assert type(converted[name]) is type(expected)


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("threshold", "abc", "parameter 'threshold' = 'abc' is not a number; accepted: a float >= 0"),
        ("threshold", -1, "parameter 'threshold' = -1 is below the minimum 0; accepted: a float >= 0"),
        ("threshold", True, "parameter 'threshold' = True is a bool, not a number"),
        ("threshold", None, "parameter 'threshold' = None is not accepted"),
        ("ngroups", 2.5, "parameter 'ngroups' = 2.5 is not a whole number; accepted: an integer >= 1 and <= 10"),
        ("ngroups", 11, "parameter 'ngroups' = 11 is above the maximum 10"),
        ("flag", "maybe", "parameter 'flag' = 'maybe' is not a boolean; accepted: a boolean (true/false)"),
        ("algorithm", "WLS", "parameter 'algorithm' = 'WLS' is not one of the options; accepted: one of 'OLS', 'OLS_C'"),
        ("indices", [1], "parameter 'indices' = [1] has 1 items, fewer than the minimum 2"),
        ("weights", [1, "x"], "parameter 'weights' = [1, 'x'] has item 1 = 'x' that is not a number"),
        ("weights", 3.0, "parameter 'weights' = 3.0 is a float, not a list"),
        ("label", [1], "parameter 'label' = [1] is a list, not a string"),
    ],
)
def test_wrong_values_name_step_parameter_value_and_what_is_accepted(specs, name, given, message):
    _, problems = validate("demo", specs, {name: given})
    assert len(problems) == 1
    assert problems[0].startswith("step 'demo': ")
    assert message in problems[0]


def test_unknown_names_get_close_matches(specs):
    _, problems = validate("demo", specs, {"treshold": 1.0})
    assert problems == [
        "step 'demo': unknown parameter 'treshold' (given 1.0). Did you mean 'threshold'? "
        "Valid parameters: algorithm, anything, cores, firstgroup, flag, forced, indices, "
        "label, names, ngroups, threshold, weights"
    ]


def test_every_problem_is_collected_before_raising(specs):
    converted, problems = validate(
        "demo", specs, {"threshold": "x", "ngroups": 0, "nope": 1, "flag": False}
    )
    assert converted == {"flag": False}
    assert len(problems) == 3
    with pytest.raises(ParameterError) as info:
        raise_problems(problems, context="config_file='p.asdf'")
    text = str(info.value)
    assert text.startswith("3 invalid parameters (config_file='p.asdf'):\n  - step 'demo'")
    for fragment in ("'threshold'", "'ngroups'", "'nope'"):
        assert fragment in text


def test_single_problem_is_raised_as_is():
    with pytest.raises(ParameterError, match=r"^only one$"):
        raise_problems(["only one"])
    raise_problems([])  # nothing to raise


def test_spec_convert_raises_parameter_error(specs):
    with pytest.raises(ParameterError, match=re.escape("step 'x': parameter 'ngroups' = 'a'")):
        specs["ngroups"].convert("a", step="x")


def test_common_spec_parses_with_stpipe_parameters():
    common = parse_spec(COMMON_SPEC)
    for name in ("skip", "save_results", "output_file", "output_dir", "suffix", "pre_hooks",
                 "post_hooks", "input_dir", "output_ext", "output_use_model",
                 "output_use_index", "search_output_file"):
        assert name in common
    assert common["skip"].default is False
    assert common["pre_hooks"].default == []


def test_merge_layers_later_wins_and_steps_merge_per_step():
    low = {"a": 1, "b": 1, "steps": {"s": {"x": 1, "y": 1}, "t": {"z": 1}}}
    high = {"b": 2, "steps": {"s": {"y": 2}, "u": {"w": 2}}}
    merged = merge_layers(low, None, high)
    assert merged == {
        "a": 1, "b": 2,
        "steps": {"s": {"x": 1, "y": 2}, "t": {"z": 1}, "u": {"w": 2}},
    }
    assert low["steps"]["s"] == {"x": 1, "y": 1}  # inputs untouched


def test_merge_layers_nested_pipelines():
    merged = merge_layers(
        {"steps": {"inner": {"steps": {"s": {"x": 1}}}}},
        {"steps": {"inner": {"steps": {"s": {"y": 2}}}}},
    )
    assert merged == {"steps": {"inner": {"steps": {"s": {"x": 1, "y": 2}}}}}


# ----------------------------------------------------------------------------- value checks


def test_parallel_specs_check_maximum_cores_with_the_parallel_rules():
    from pipeline_core.config.params import parallel_specs

    spec = parallel_specs()["maximum_cores"]
    assert spec.convert("Half", step="jump") == "Half"
    assert spec.convert(4) == "4"
    with pytest.raises(ParameterError) as info:
        spec.convert("most", step="jump")
    assert str(info.value).startswith(
        "step 'jump': parameter 'maximum_cores' = 'most' is not valid; accepted: 'none', 'quarter'"
    )
    converted, problems = validate("jump", parallel_specs(), {"maximum_cores": "-1"})
    assert converted == {} and len(problems) == 1
    assert problems[0].startswith("step 'jump': parameter 'maximum_cores' = '-1' is not valid")


def test_a_spec_check_sees_the_value_as_given_and_the_step():
    seen = []

    def even(value, step):
        seen.append((value, step))
        if int(value) % 2:
            raise ParameterError(f"step '{step}': parameter 'n' = {value!r} is odd; accepted: an even integer")

    spec = ParamSpec(**{**parse_spec("n = integer(default=None)")["n"].__dict__, "check": even})
    assert spec.convert("4", step="s") == 4
    assert spec.convert(None) is None  # None is not checked
    with pytest.raises(ParameterError, match=r"^step 's': parameter 'n' = 3 is odd"):
        spec.convert(3, step="s")
    assert seen == [("4", "s"), (3, "s")]
