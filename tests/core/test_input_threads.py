"""How many threads read a step's input file: as many as its kernels may use on threads."""

from __future__ import annotations

import numpy as np
import pytest

import pipeline_core.datamodels as datamodels
from pipeline_core.datamodels import RampModel
from pipeline_core.steps import Pipeline, Step


class ThreadedStep(Step):
    class_alias = "threaded_probe"
    parallel = True
    parallel_threads = True
    spec = ""

    def process(self, input):
        return input


class PooledStep(ThreadedStep):
    class_alias = "pooled_probe"
    parallel_threads = False


class PlainStep(ThreadedStep):
    class_alias = "plain_probe"
    parallel = False
    parallel_threads = False


class ProbePipeline(Pipeline):
    class_alias = "probe_pipeline"
    step_defs = {"threaded": ThreadedStep, "pooled": PooledStep, "plain": PlainStep}

    def process(self, input):
        for step in (self.threaded, self.pooled, self.plain):
            input = step.run(input)
        return input


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr("pipeline_core.parallel.cores.available_cores", lambda: 4)


def test_a_step_reads_on_the_threads_its_kernels_may_use(four_cores):
    assert ThreadedStep().input_threads() == 1  # maximum_cores defaults to 'none'
    assert ThreadedStep(maximum_cores="2").input_threads() == 2
    assert ThreadedStep(maximum_cores="all").input_threads() == 4
    assert ThreadedStep(maximum_cores="all", skip=True).input_threads() == 1
    assert PooledStep(maximum_cores="all").input_threads() == 1  # its workers map shared memory
    assert PlainStep().input_threads() == 1


def test_a_pipeline_reads_on_the_most_threads_of_its_running_steps(four_cores):
    pipeline = ProbePipeline()
    assert pipeline.input_threads() == 1
    pipeline.pooled.maximum_cores = "all"
    assert pipeline.input_threads() == 1
    pipeline.threaded.maximum_cores = "2"
    assert pipeline.input_threads() == 2
    pipeline.threaded.skip = True
    assert pipeline.input_threads() == 1


@pytest.mark.parametrize("how", ["call", "run"])
def test_call_and_run_open_a_file_input_with_those_threads(tmp_path, monkeypatch, four_cores, how):
    path = RampModel(data=np.zeros((1, 2, 3, 4), np.float32)).save(tmp_path / "ramp.fits")
    seen = []
    real = datamodels.open_model

    def recording(path_or_model, **kwargs):
        seen.append(kwargs.get("threads", 1))
        return real(path_or_model, **kwargs)

    monkeypatch.setattr(datamodels, "open_model", recording)
    if how == "call":
        ProbePipeline.call(path, steps={"threaded": {"maximum_cores": "2"}})
    else:
        pipeline = ProbePipeline()
        pipeline.threaded.maximum_cores = "2"
        pipeline.run(path)
    assert seen[0] == 2


def test_detector1_reads_the_ramp_on_the_threads_of_jump_or_ramp_fit(four_cores):
    from builtin_steps.pipelines.detector1 import Detector1Pipeline

    pipeline = Detector1Pipeline()
    assert pipeline.input_threads() == 1
    pipeline.ramp_fit.maximum_cores = "2"
    assert pipeline.input_threads() == 2
    pipeline.jump.maximum_cores = "all"
    assert pipeline.input_threads() == 4
    pipeline.jump.skip = True
    assert pipeline.input_threads() == 2
