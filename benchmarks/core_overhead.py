"""Benchmark: the framework's own cost per step run.

Times, with steps that do almost nothing (add a constant, multiply by a factor):

* ``run``: ``step.run(x)`` on an instance (logging, registry hooks, cal_step);
* ``call``: ``Step.call(x, value=...)`` (also builds and validates the configuration);
* ``pipeline``: ``TwoStepPipeline.call(model, steps=...)`` on a 64 x 64 ImageModel
  (configuration of three steps, one model copy, two sub-step runs).

CRDS parameter files are disabled and no plugin is loaded, so only the framework is
measured. Medians of the per-run times are printed in microseconds.

Run::

    python benchmarks/core_overhead.py [--repeats 5] [--number 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _time(function, number: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--number", type=int, default=500)
    args = parser.parse_args(argv)

    os.environ["STPIPE_DISABLE_CRDS_STEPPARS"] = "1"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pipeline_core.plugins import manager as registry_module
    from pipeline_core.datamodels import ImageModel
    from tests.fixtures.core import AddStep, TwoStepPipeline

    registry_module.reset_registry()
    registry_module._entry_points = lambda: []  # measure the framework alone

    step = AddStep()
    model = ImageModel((64, 64))
    results = {
        "run (float input)": _time(lambda: step.run(1.0), args.number, args.repeats),
        "call (float input)": _time(lambda: AddStep.call(1.0, value=2), args.number, args.repeats),
        "two-step pipeline call (64x64 ImageModel)": _time(
            lambda: TwoStepPipeline.call(model, steps={"scale": {"factor": 3}}), args.number, args.repeats
        ),
    }
    for label, micro in results.items():
        print(f"{label:45s} {micro:9.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
