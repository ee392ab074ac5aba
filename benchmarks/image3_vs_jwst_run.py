"""Run one Image3 pipeline on an association, in its own process: steppe's or jwst's.

``python image3_vs_jwst_run.py {steppe|jwst} ASN OUTDIR IN_MEMORY STEPS_JSON [SAVE]``
(run jwst's with the python of the JWST environment). The pipeline runs as a
user runs it (``save_results``, unless SAVE is ``0``: the scaling runs do not
write a ``crf`` product per exposure); each step's wall time and the process's peak
resident memory (``VmHWM``) after it are recorded. Prints one ``RESULT`` line
(JSON): ``seconds``, ``peak_rss`` (bytes), ``steps`` ({name: [seconds, peak_rss]}).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child_process import rss_high_water  # noqa: E402

STEPS = ("assign_mtwcs", "tweakreg", "skymatch", "outlier_detection", "resample", "source_catalog")


def _timed(pipe, record: dict) -> None:
    """Wrap each step's ``run`` to record its time and the memory peak after it."""
    for name in STEPS:
        step = getattr(pipe, name, None)
        if step is None:
            continue

        def make(original, name=name):
            def run(*args, **kwargs):
                t0 = time.perf_counter()
                result = original(*args, **kwargs)
                record[name] = [time.perf_counter() - t0, rss_high_water()]
                return result

            return run

        step.run = make(step.run)


#: Where each side's Image3Pipeline lives.
PIPELINES = {"steppe": "builtin_steps.pipelines.image3", "jwst": "jwst.pipeline"}


def run(which: str, asn: str, outdir: str, in_memory: bool, steps: dict, save: bool) -> dict:
    """Run ``which``'s (``steppe`` or ``jwst``) Image3Pipeline on `asn`, timing each step."""
    import importlib

    pipeline_class = importlib.import_module(PIPELINES[which]).Image3Pipeline
    pipe = pipeline_class(in_memory=in_memory, save_results=save, output_dir=outdir, steps=steps)
    record: dict = {}
    _timed(pipe, record)
    t0 = time.perf_counter()
    pipe.run(asn)
    return {"seconds": time.perf_counter() - t0, "peak_rss": rss_high_water(), "steps": record}


def main(argv: list[str]) -> int:
    """Run the pipeline named by ``argv[0]``; print the ``RESULT`` line."""
    which, asn, outdir, in_memory, steps = argv[0], argv[1], argv[2], argv[3] == "1", json.loads(argv[4])
    save = len(argv) < 6 or argv[5] != "0"
    warnings.simplefilter("ignore")
    print("RESULT" + json.dumps(run(which, asn, outdir, in_memory, steps, save)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
