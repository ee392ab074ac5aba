"""Releasing the ramp's rows as the fit goes: builtin_steps.ramp_fit.release and the step."""

import sys

import numpy as np
import pytest

from builtin_steps.ramp_fit.release import release_rows
from builtin_steps.ramp_fit.step import RampFitStep
from tests.builtin import _stepdata as sd

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise is Linux-only here")


@linux_only
def test_released_rows_lose_their_pages_and_the_others_keep_their_values():
    array = np.full((2, 3, 64, 1024), 7.0, np.float32)  # a row is 4 KiB: one page
    released = release_rows(array, 10, 30)
    assert released >= 6 * 19 * 4096  # every plane, whole pages inside the rows
    assert (array[:, :, :10] == 7).all() and (array[:, :, 30:] == 7).all()
    assert (array[:, :, 11:29] == 0).all()  # anonymous pages given back read as zeros


def test_views_and_non_contiguous_arrays_are_left_alone():
    array = np.full((2, 64, 1024), 7.0, np.float32)
    assert release_rows(array[:, ::2], 0, 10) == 0
    assert release_rows(array[1:], 0, 10) == 0
    assert (array == 7).all()


@pytest.mark.parametrize("maximum_cores", ["none", "2"])
@pytest.mark.parametrize(
    ("shape", "in_ramp"),
    [((2, 5, 256, 256), False),  # 10 planes: too few for the 15 product images
     ((2, 8, 256, 256), True)],  # 16 planes: the products are written over the ramp
)
def test_fit_releasing_rows_gives_the_same_products(tmp_path, monkeypatch, shape, in_ramp, maximum_cores):
    rng = np.random.default_rng(5)
    ramp = sd.make_ramp(shape)
    ramp.data += rng.normal(0, 3, shape).astype(np.float32)
    ramp.groupdq[0, 3, 5, 7] = 4  # a jump: that pixel goes through the segment code
    ramp.groupdq[1, 2:, 200, 9] = 2  # saturated from the third group
    refs = {"override_gain": sd.gain(tmp_path, np.full(shape[-2:], 2.0)),
            "override_readnoise": sd.readnoise(tmp_path, np.full(shape[-2:], 5.0))}
    monkeypatch.setattr("builtin_steps.ramp_fit.step._BAND_PIXELS", 256 * 64)  # 4 bands or more
    plain = RampFitStep(**refs).run(ramp)
    releasing = RampFitStep(maximum_cores=maximum_cores, **refs)
    object.__setattr__(releasing, "_release_fitted_rows", True)
    fitted = ramp.copy()
    result = releasing.process(fitted)
    assert np.shares_memory(result[0].data, fitted.data) == in_ramp
    assert np.shares_memory(result[1].err, fitted.data) == in_ramp
    if sys.platform.startswith("linux") or in_ramp:  # the ramp's rows were given back or overwritten
        assert not np.array_equal(fitted.data, ramp.data)
    for one, two in zip(plain, result):
        for name in ("data", "dq", "var_poisson", "var_rnoise", "err"):
            assert np.array_equal(getattr(one, name), getattr(two, name), equal_nan=True), name
