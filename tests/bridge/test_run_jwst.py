"""jwst's own steps run through steppe, offline, compared with steppe's.

Measured on the NIRCam sample exposure (1 x 5 x 64 x 64), every reference
overridden with the sample files:

* jump: jwst's JumpStep and steppe's flag the same 47 groups; GROUPDQ identical;
* ramp_fit: DQ identical; SCI differs by at most 1.5e-5 DN/s (float32 summation
  order), ERR by less than 1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jwst")

from pipeline_core import hookimpl, registry  # noqa: E402
from pipeline_core.errors import ParameterError  # noqa: E402
from tests.bridge._offline import offline_overrides  # noqa: E402
from tests.e2e._samples import OUTPUTS, UNCAL, ref  # noqa: E402

pytestmark = pytest.mark.skipif(not OUTPUTS.exists(), reason="JWST sample files not available")

NOISE = {"override_gain": ref("gain"), "override_readnoise": ref("readnoise")}
JUMP = 4


pytestmark = [pytestmark, pytest.mark.usefixtures("offline")]


@pytest.fixture(scope="module")
def dark_subtracted():
    """The sample ramp through steppe's steps up to dark_current, as Detector1 runs them."""
    steps = offline_overrides()
    patch = pytest.MonkeyPatch()
    patch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    try:
        data = str(UNCAL["rampmodel"])
        for name in ("dq_init", "saturation", "superbias", "refpix", "linearity", "dark_current"):
            data = registry().resolve(name).call(data, **steps.get(name, {}))
    finally:
        patch.undo()
    assert type(data).__name__ == "RampModel"
    return data


def test_jwst_jump_agrees_with_steppes(dark_subtracted):
    theirs = registry().resolve("jwst::jump").call(dark_subtracted, **NOISE)
    ours = registry().resolve("jump").call(dark_subtracted, **NOISE)
    assert type(theirs).__name__ == "RampModel"  # handed back as a steppe model
    assert theirs.meta.cal_step.jump == "COMPLETE"
    assert theirs.meta.ref_file.gain.name.endswith("gain_nrca3_sub64p_synth.fits")
    flagged = (theirs.groupdq & JUMP) != 0
    assert flagged.sum() > 10
    np.testing.assert_array_equal(theirs.groupdq, ours.groupdq)
    np.testing.assert_array_equal(theirs.data, ours.data)
    # the caller's model is not changed
    assert not (dark_subtracted.groupdq & JUMP).any()


def test_jwst_ramp_fit_agrees_with_steppes(dark_subtracted):
    jumped = registry().resolve("jump").call(dark_subtracted, **NOISE)
    theirs = registry().resolve("jwst::ramp_fit").call(jumped, **NOISE)
    ours = registry().resolve("ramp_fit").call(jumped, **NOISE)
    for a, b in zip(theirs, ours):
        assert type(a).__name__ == type(b).__name__
        np.testing.assert_array_equal(a.dq, b.dq)
        np.testing.assert_array_equal(np.isnan(a.data), np.isnan(b.data))
        finite = np.isfinite(a.data)
        np.testing.assert_allclose(a.data[finite], b.data[finite], atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(a.err[finite], b.err[finite], rtol=1e-4)
    assert theirs[0].meta.cal_step.ramp_fit == "COMPLETE"


def test_parameters_follow_jwsts_spec_with_steppes_checks(dark_subtracted):
    jump = registry().resolve("jwst::jump")
    specs = jump.param_specs()
    assert specs["rejection_threshold"].default == 4.0
    assert {"override_gain", "override_readnoise", "skip", "save_results"} <= set(specs)
    with pytest.raises(ParameterError, match="rejection_threshold"):
        jump.call(dark_subtracted, rejection_threshold=-1.0, **NOISE)
    with pytest.raises(ParameterError, match="rejection_treshold"):
        jump(rejection_treshold=5.0)
    skipped = jump.call(dark_subtracted, skip=True, **NOISE)
    assert skipped.meta.cal_step.jump == "SKIPPED"
    assert not (skipped.groupdq & JUMP).any()


def test_reference_files_come_from_steppes_hook(dark_subtracted):
    asked = []

    class Refs:
        @hookimpl
        def get_reference_file(self, step, model, reftype):
            asked.append((step.name, type(model).__module__, reftype))
            return ref(reftype) if reftype in ("gain", "readnoise") else None

    registry().register_plugin(Refs(), distribution="test-refs")
    result = registry().resolve("jwst::jump").call(dark_subtracted)
    assert sorted(r for _, _, r in asked) == ["gain", "readnoise"]
    assert all(name == "jump" and module.startswith("pipeline_core") for name, module, _ in asked)
    assert result.meta.ref_file.readnoise.name.endswith("readnoise_nrca3_sub64p_synth.fits")


def test_adapter_classes_pickle_by_reference():
    import pickle

    cls = registry().resolve("jwst::jump")
    assert pickle.loads(pickle.dumps(cls)) is cls
