"""NaN and infinities are refused by ``float`` parameters; ``option(..., None)`` accepts None.

``rejection_threshold=nan`` (or ``inf``) used to pass validation, as a keyword, on
the command line and in parameter files. A ``float`` (and each item of a
``float_list``) must now be finite unless its spec says ``allow_nonfinite=True``.
An ``option`` that lists ``None`` among its choices used to refuse a Python
``None`` (only the string ``'None'`` passed).
"""

from __future__ import annotations

import io
import math

import pytest

from builtin_steps.jump.step import JumpStep
from pipeline_core import Step
from pipeline_core.cli.main import run_cli
from pipeline_core.config.params import parse_spec
from pipeline_core.config.parfile import StepConfig, write_parameter_file
from pipeline_core.errors import ParameterError, StepError
from tests.e2e._samples import UNCAL, cli_overrides

ACCEPTED = "accepted: a float >= 0 [float(default=4.0,min=0)]"


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


@pytest.mark.parametrize(
    "value, reason",
    [
        ("nan", "is NaN"),
        (float("nan"), "is NaN"),
        ("inf", "is infinite"),
        (float("inf"), "is infinite"),
        ("-inf", "is infinite"),
        ("Infinity", "is infinite"),
    ],
)
def test_keyword_values_that_are_not_finite_are_refused(value, reason):
    with pytest.raises(ParameterError) as info:
        JumpStep(rejection_threshold=value)
    assert str(info.value) == (
        f"step 'jump': parameter 'rejection_threshold' = {value!r} {reason}, which is not "
        f"accepted: this parameter takes finite numbers only; {ACCEPTED}"
    )


def test_setting_an_attribute_to_nan_is_refused():
    step = JumpStep()
    with pytest.raises(ParameterError, match="is NaN, which is not accepted"):
        step.rejection_threshold = math.nan
    assert step.rejection_threshold == 4.0


def test_command_line_nan_is_refused_before_anything_runs(tmp_path):
    err = io.StringIO()
    argv = ["run", "calwebb_detector1", str(UNCAL["level1b"]), "--output-dir", str(tmp_path / "out"),
            "--steps.jump.rejection_threshold=nan"]
    assert run_cli(argv + cli_overrides(), stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == (
        "steppe: error: step 'jump': parameter 'rejection_threshold' = 'nan' is NaN, which is not "
        f"accepted: this parameter takes finite numbers only; {ACCEPTED}\n"
    )
    assert not (tmp_path / "out").exists()


def test_parameter_file_infinity_is_refused(tmp_path):
    path = tmp_path / "jump.asdf"
    write_parameter_file(path, StepConfig("jump", "jump", {"rejection_threshold": float("inf")}))
    with pytest.raises(ParameterError) as info:
        JumpStep.from_config_file(path)
    assert str(info.value) == (
        "step 'jump': parameter 'rejection_threshold' = inf is infinite, which is not accepted: "
        f"this parameter takes finite numbers only; {ACCEPTED} (parameter file '{path}')"
    )


def test_float_list_items_must_be_finite_too():
    (spec,) = parse_spec("weights = float_list(default=list())").values()
    with pytest.raises(ParameterError, match=r"has item 1 = 'nan' that is NaN, which is not accepted"):
        spec.convert([1.0, "nan"])


def test_allow_nonfinite_opts_in():
    specs = parse_spec(
        "limit = float(default=inf, allow_nonfinite=True)\n"
        "cuts = float_list(default=list(), allow_nonfinite=True)\n"
    )
    assert specs["limit"].default == math.inf
    assert math.isnan(specs["limit"].convert("nan"))
    assert specs["cuts"].convert("-inf, 2") == [-math.inf, 2.0]


def test_allow_nonfinite_is_checked_in_the_spec():
    with pytest.raises(StepError, match="allow_nonfinite applies to float and float_list only"):
        parse_spec("n = integer(default=1, allow_nonfinite=True)")
    with pytest.raises(StepError, match="its default does not fit: .* is infinite"):
        parse_spec("limit = float(default=inf)")


def test_an_option_listing_none_accepts_python_none():
    class ModeStep(Step):
        spec = """
        mode = option('fast', None, default='fast')  # None: let the data decide
        level = option('low', 'high', None, default=None)
        """
        class_alias = "mode"

        def process(self, data):
            return (self.mode, self.level)

    assert ModeStep.call(0, mode=None) == (None, None)
    assert ModeStep.call(0, mode="None", level="high") == (None, "high")
    step = ModeStep()
    step.mode = None
    assert step.mode is None
    with pytest.raises(ParameterError, match=r"'mode' = 'slow' is not one of the options; accepted: one of 'fast', None"):
        ModeStep(mode="slow")
