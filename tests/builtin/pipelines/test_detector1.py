"""Tests of Detector1Pipeline and the built-in plugin's registrations."""

import numpy as np
import pytest

from builtin_steps.pipelines.detector1 import STEP_ORDER, Detector1Pipeline, step_list_path
from builtin_steps.plugin import PIPELINES, STEPS, register_steps
from pipeline_core import Step
from pipeline_core.plugins.manager import registry
from tests.builtin import _stepdata as sd


@pytest.mark.parametrize(("path", "alias", "legacy", "parallel"), STEPS)
def test_every_step_resolves_by_alias_and_jwst_path(path, alias, legacy, parallel):
    cls = registry().resolve(alias)
    assert registry().resolve(legacy) is cls
    assert f"{cls.__module__}.{cls.__name__}" == path
    assert cls.class_alias == alias and legacy in cls.legacy_class_paths
    assert cls.__name__ == legacy.rsplit(".", 1)[1]
    assert bool(getattr(cls, "parallel", False)) is parallel


def test_pipeline_resolves_by_alias_and_jwst_path():
    (path, alias, legacy), = PIPELINES
    assert registry().resolve(alias) is Detector1Pipeline
    assert registry().resolve(legacy) is Detector1Pipeline
    assert {d["alias"] for d in register_steps()} == {s[1] for s in STEPS} | {alias}


def test_step_order_and_defaults():
    pipe = Detector1Pipeline()
    assert list(pipe.step_defs) == list(STEP_ORDER)
    assert pipe.save_calibrated_ramp is False
    assert pipe.saturation.n_pix_grow_sat == 1 and pipe.refpix.side_smoothing_length == 11


def test_shipped_step_list_loads_with_jwst_class_paths():
    pipe = Step.from_config_file(step_list_path())
    assert isinstance(pipe, Detector1Pipeline)
    assert list(pipe.step_defs) == list(STEP_ORDER)
    assert pipe.jump.rejection_threshold == 4.0


def _references(tmp_path, shape):
    ny, nx = shape
    coeffs = np.zeros((3, ny, nx), np.float32)
    coeffs[1] = 1.0
    noise = np.full((ny, nx), 5.0, np.float32)
    return {
        "dq_init": {"override_mask": sd.mask(tmp_path, np.zeros((ny, nx)))},
        "saturation": {"override_saturation": sd.saturation(tmp_path, np.full((ny, nx), 60000.0))},
        "superbias": {"override_superbias": sd.superbias(tmp_path, np.full((ny, nx), 900.0))},
        "linearity": {"override_linearity": sd.linearity(tmp_path, coeffs)},
        "dark_current": {"override_dark": sd.dark(tmp_path, np.zeros((10, ny, nx)))},
        "jump": {"override_gain": sd.gain(tmp_path, np.ones((ny, nx))), "override_readnoise": sd.readnoise(tmp_path, noise, name="rn.fits")},
        "ramp_fit": {"override_gain": sd.gain(tmp_path, np.ones((ny, nx)), name="g2.fits"), "override_readnoise": sd.readnoise(tmp_path, noise, name="rn2.fits")},
        "gain_scale": {"override_gain": sd.gain(tmp_path, np.ones((ny, nx)), name="g3.fits")},
    }


def test_noise_free_ramp_gives_its_slope_and_saves_both_products(tmp_path):
    ramp = sd.make_ramp((2, 5, 8, 8), value=1000.0, slope=10.0)
    steps = _references(tmp_path, (8, 8))
    rate = Detector1Pipeline.call(ramp, steps=steps, save_results=True, output_dir=str(tmp_path))
    np.testing.assert_allclose(rate.data, 1.0, rtol=1e-5)  # 10 DN per 10 s group
    assert (tmp_path / "test_rate.fits").exists() and (tmp_path / "test_rateints.fits").exists()
    assert rate.meta.cal_step.refpix == "SKIPPED"  # subarray without reference pixels
