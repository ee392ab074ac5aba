"""What calwebb_detector1 prepares in a background thread while its first steps run."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from builtin_steps.pipelines import detector1
from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core.references import crds_client

CRDS_WARM_UP = "pipeline_core.references.crds_client:warm_up"


@pytest.fixture
def targets(monkeypatch):
    """The warm-up targets the pipeline starts (nothing is run)."""
    seen = []
    monkeypatch.setattr("builtin_steps._jit.warm_up_in_background", lambda t: seen.append(list(t)))
    return seen


def test_crds_comes_first_when_a_step_will_look_up_a_reference(targets):
    pipeline = Detector1Pipeline()
    detector1._warm_up_in_background(pipeline)
    (started,) = targets
    assert started[0] == CRDS_WARM_UP
    assert "builtin_steps.jump.blocks:warm_up" in started and "builtin_steps.ramp_fit.ols:warm_up" in started


def test_no_crds_warm_up_when_every_running_step_has_its_overrides(targets, tmp_path):
    pipeline = Detector1Pipeline()
    for step in pipeline.substeps.values():
        step.skip = True
    pipeline.linearity.skip = False
    pipeline.linearity.override_linearity = str(tmp_path / "linearity.fits")
    detector1._warm_up_in_background(pipeline)
    assert targets == []  # jump and ramp_fit skipped: no kernel either
    pipeline.jump.skip = False
    pipeline.jump.override_gain = pipeline.jump.override_readnoise = str(tmp_path / "ref.fits")
    detector1._warm_up_in_background(pipeline)
    assert targets == [["builtin_steps.jump.blocks:warm_up"]]


def test_asdf_is_imported_before_the_crds_warm_up_starts():
    # In a new interpreter (where nothing has imported asdf yet): the thread that
    # imports crds must not initialise asdf while a step imports it to read a reference.
    code = (
        "import sys\n"
        "from builtin_steps.pipelines import detector1\n"
        "assert 'asdf' not in sys.modules\n"
        "seen = []\n"
        "import builtin_steps._jit as jit\n"
        "jit.warm_up_in_background = lambda targets: seen.append(('asdf' in sys.modules, targets[0]))\n"
        "detector1._warm_up_in_background(detector1.Detector1Pipeline())\n"
        "assert seen == [(True, 'pipeline_core.references.crds_client:warm_up')], seen\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_a_lookup_during_the_crds_warm_up_gets_the_plain_answer(crds_env):
    parameters = {
        "META.INSTRUMENT.NAME": "NIRCAM", "META.INSTRUMENT.DETECTOR": "NRCA1",
        "META.EXPOSURE.TYPE": "NRC_IMAGE", "META.EXPOSURE.READPATT": "RAPID",
        "META.SUBARRAY.NAME": "FULL", "META.OBSERVATION.DATE": "2024-01-01",
        "META.OBSERVATION.TIME": "00:00:00",
    }
    plain, context, _ = crds_client.lookup(parameters, ["gain", "ipc"])
    crds_client.reset()
    thread = threading.Thread(target=crds_client.warm_up)
    thread.start()
    during, context_during, _ = crds_client.lookup(parameters, ["gain", "ipc"])
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert (during, context_during) == (plain, context)
    assert plain["gain"].endswith(".fits")

