"""Benchmark of reference file lookups through the real crds client, offline.

Builds the embedded reference set into a temporary folder (timed: that is the
one-time cost a user pays on first use), then, in a fresh process, measures:

* ``import crds`` and the first ``crds.getreferences`` call (loads the mappings);
* a cached ``crds.getreferences`` call (mappings already loaded), for one and for
  seven reference types, as the mean of many calls;
* ``pipeline_core.references.lookup.get_reference_file`` (what a step pays per reference
  file: settings, the plugin hook, the crds call and recording the metadata);
* ``get_step_parameters`` (a ``pars-*`` lookup plus reading the ASDF file).

Run::

    python benchmarks/crds_lookup.py                 # 500 calls per figure
    python benchmarks/crds_lookup.py --calls 2000 --workdir /tmp/crdsbench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

_MEASURE = r"""
import json, os, statistics, sys, time
calls = int(sys.argv[1])
out = {}
t = time.perf_counter()
import crds
out["import crds (s)"] = time.perf_counter() - t
params = {
    "META.INSTRUMENT.NAME": "NIRCAM", "META.INSTRUMENT.DETECTOR": "NRCA1",
    "META.SUBARRAY.NAME": "SUB160", "META.EXPOSURE.READPATT": "RAPID",
    "META.EXPOSURE.TYPE": "NRC_IMAGE",
    "META.OBSERVATION.DATE": "2024-09-15", "META.OBSERVATION.TIME": "12:00:00",
}
seven = ["mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise"]
t = time.perf_counter()
crds.getreferences(params, reftypes=seven, context="jwst_0001.pmap", observatory="jwst")
out["first getreferences, 7 types (ms)"] = (time.perf_counter() - t) * 1e3

def mean_ms(function):
    function()
    t = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - t) / calls * 1e3

out["cached getreferences, 1 type (ms)"] = mean_ms(
    lambda: crds.getreferences(params, reftypes=["gain"], context="jwst_0001.pmap", observatory="jwst"))
out["cached getreferences, 7 types (ms)"] = mean_ms(
    lambda: crds.getreferences(params, reftypes=seven, context="jwst_0001.pmap", observatory="jwst"))

from pipeline_core.datamodels import ImageModel
from pipeline_core.references.lookup import get_reference_file, get_step_parameters
from pipeline_core.steps.step import Step

class JumpStep(Step):
    spec = '''
    rejection_threshold = float(default=4.0)
    three_group_rejection_threshold = float(default=6.0)
    four_group_rejection_threshold = float(default=5.0)
    '''
    reference_file_types = ("gain",)
    def process(self, model):
        return model

model = ImageModel((2, 2))
model.meta.instrument.name, model.meta.instrument.detector = "NIRCAM", "NRCA1"
model.meta.subarray.name, model.meta.exposure.readpatt = "SUB160", "RAPID"
model.meta.observation.date, model.meta.observation.time = "2024-09-15", "12:00:00"
step = JumpStep()
out["steppe get_reference_file, 1 type (ms)"] = mean_ms(lambda: get_reference_file(step, model, "gain"))
out["steppe get_step_parameters (ms)"] = mean_ms(lambda: get_step_parameters(JumpStep, model))
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per mean (default 500)")
    parser.add_argument("--workdir", help="folder for the cache (default: a temporary folder)")
    args = parser.parse_args(argv)

    workdir = args.workdir or tempfile.mkdtemp(prefix="steppe-crds-bench-")
    cache = os.path.join(workdir, "crds")
    build = (
        "import time; t = time.perf_counter()\n"
        "from builtin_steps.refdata.cache import ensure_embedded_cache\n"
        f"ensure_embedded_cache({cache!r}); print(time.perf_counter() - t)\n"
    )
    built_before = os.path.isdir(cache)
    built = subprocess.run([sys.executable, "-c", build], check=True, capture_output=True, text=True)
    seconds = float(built.stdout)
    env = dict(
        os.environ,
        CRDS_PATH=cache,
        CRDS_SERVER_URL="https://jwst-serverless-mode.stsci.edu",
        CRDS_READONLY_CACHE="1",
        STPIPE_DISABLE_CRDS_STEPPARS="",
    )
    env.pop("CRDS_CONTEXT", None)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(args.calls)], check=True, capture_output=True, text=True, env=env
    )
    figures = json.loads(result.stdout)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(cache) for f in files)
    label = "embedded set already built (s)" if built_before else "build the embedded set, fresh process (s)"
    rows = [(label, seconds), ("embedded set size (MB)", size / 1e6), *figures.items()]
    width = max(len(name) for name, _ in rows)
    print(f"crds {figures and _crds_version()}; {args.calls} calls per mean; cache {cache}")
    for name, value in rows:
        print(f"{name:<{width}}  {value:10.3f}")
    print(f"(measurement process: {time.perf_counter() - started:.1f} s)")
    return 0


def _crds_version() -> str:
    from importlib.metadata import version

    return version("crds")


if __name__ == "__main__":
    raise SystemExit(main())
