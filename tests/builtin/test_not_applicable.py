"""A reference type that does not apply ("N/A") skips the step and leaves the data alone."""

import logging

import numpy as np
import pytest

from builtin_steps.dark_current.step import DarkCurrentStep
from builtin_steps.dq_init.step import DQInitStep
from builtin_steps.gain_scale.step import GainScaleStep
from builtin_steps.linearity.step import LinearityStep
from builtin_steps.saturation.step import SaturationStep
from builtin_steps.superbias.step import SuperBiasStep
from tests.builtin import _stepdata as sd


@pytest.mark.parametrize(
    ("step_class", "reftype", "key"),
    [
        (DQInitStep, "mask", "dq_init"),
        (SaturationStep, "saturation", "saturation"),
        (SuperBiasStep, "superbias", "superbias"),
        (LinearityStep, "linearity", "linearity"),
        (DarkCurrentStep, "dark", "dark_sub"),
        (GainScaleStep, "gain", "gain_scale"),
    ],
)
def test_not_applicable_reference_skips(step_class, reftype, key, caplog):
    ramp = sd.make_ramp()
    with caplog.at_level(logging.WARNING):
        out = step_class.call(ramp, **{f"override_{reftype}": "N/A"})
    assert getattr(out.meta.cal_step, key) == "SKIPPED"
    np.testing.assert_array_equal(out.data, ramp.data)
    assert f"No {reftype.upper()} reference file applies" in caplog.text


def test_non_ramp_input_is_a_clear_error():
    from pipeline_core.datamodels import ImageModel
    from pipeline_core.errors import StepError

    with pytest.raises(StepError, match=r"step saturation: needs a ramp \(RampModel.*got ImageModel"):
        SaturationStep.call(ImageModel((4, 4)))
