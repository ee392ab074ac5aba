"""steppe's Detector1 against JWST's calwebb_detector1: time, memory and products, step by step.

For each detector asked for (MIRI imager FULL FASTR1, NIRSpec NRS1 IRS2, NIRCam
NRCA1 full frame) the script writes a synthetic raw ramp and a full set of
JWST-layout reference files (with ``stdatamodels``, in the JWST environment), then

1. runs JWST's ``calwebb_detector1`` (in the environment named by
   ``STEPPE_JWST_PYTHON``: the ``jwst`` package is not a steppe dependency) and
   steppe's ``Detector1Pipeline`` (here), ``--repeat`` times each, each run in a
   fresh process, with every step that applies to the detector turned on and
   every step reading the same reference files (``override_<reftype>``); each
   step's wall time and the peak resident memory (``VmHWM``) after it are recorded;
2. compares the rate products: DQ (pixels differing, per bit), SCI and ERR
   (relative difference at the 99.9th percentile);
3. (unless ``--no-diagnose``) runs JWST once more saving the arrays after every
   step, and runs steppe's steps one by one, both on its own ramp (*chained*)
   and on JWST's output of the previous step (*isolated*: what this step alone
   changes), comparing each output with JWST's.

It prints the tables and writes them, with the differences found and their
known causes, to ``benchmarks/results/detector1_vs_jwst.md``.

Run::

    STEPPE_JWST_PYTHON=/work/jwst-env/bin/python python benchmarks/detector1_vs_jwst.py
    STEPPE_JWST_PYTHON=... python benchmarks/detector1_vs_jwst.py --detectors miri,nirspec --repeat 3 \\
        --workdir /tmp/d1cmp --no-diagnose

Timings depend on the machine's load; peak memory of one run stays under ~2 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from child_process import run_child, write_report  # noqa: E402
from detector1_vs_jwst_compare import differing_bits, summary_line  # noqa: E402
from detector1_vs_jwst_notes import CHAINED, FINDINGS, NOTES  # noqa: E402
from detector1_vs_jwst_setup import DETECTORS, pipeline_order  # noqa: E402

GIB = 1024**3
REPORT = HERE / "results" / "detector1_vs_jwst.md"


# ----------------------------------------------------------------------------- processes
def _jwst_env() -> dict:
    env = dict(os.environ, STPIPE_DISABLE_CRDS_STEPPARS="1")
    env.setdefault("CRDS_SERVER_URL", "https://jwst-serverless-mode.stsci.edu")
    if "CRDS_PATH" not in env:  # jwst needs a CRDS context even when every reference is an override
        from builtin_steps.refdata.cache import ensure_embedded_cache

        env["CRDS_PATH"] = ensure_embedded_cache()
    return env


def make_data(python: str, key: str, folder: Path, regenerate: bool) -> None:
    """Write the exposure's raw ramp and references (JWST environment)."""
    if regenerate and folder.exists():
        shutil.rmtree(folder)
    if folder.exists() and any(folder.glob("*_uncal.fits")):
        return
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(HERE / "detector1_vs_jwst_data.py"), key, str(folder)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"writing the {key} exposure failed:\n{proc.stderr[-3000:]}")
    print(f"[{key}] synthetic exposure and references written in {time.perf_counter() - t0:.0f} s", flush=True)


def run_jwst(python: str, key: str, folder: Path, outdir: Path, save_steps: bool) -> dict:
    cmd = [python, str(HERE / "detector1_vs_jwst_runjwst.py"), key, str(folder), str(outdir)]
    return run_child(cmd + (["--save-steps"] if save_steps else []), env=_jwst_env())


def run_steppe(mode: str, key: str, folder: Path, other: Path) -> dict:
    env = dict(os.environ, STPIPE_DISABLE_CRDS_STEPPARS="1")
    cmd = [sys.executable, str(HERE / "detector1_vs_jwst_runsteppe.py"), mode, key, str(folder), str(other)]
    return run_child(cmd, env=env, log=other / f"steppe_{mode}.log" if other.is_dir() else None)


# ----------------------------------------------------------------------------- products
def compare_rates(mine_path: Path, theirs_path: Path) -> dict:
    """DQ per bit, SCI and ERR relative differences of two rate products."""
    with np.load(mine_path) as a, np.load(theirs_path) as b:
        mine, theirs = {k: a[k] for k in a.files}, {k: b[k] for k in b.files}
    out = {"dq_bits": differing_bits(mine["dq"], theirs["dq"]),
           "dq_pixels": int(np.count_nonzero(mine["dq"] != theirs["dq"]))}
    good = ((mine["dq"] | theirs["dq"]) & 1) == 0
    for name in ("data", "err"):
        a, b = mine[name].astype(np.float64), theirs[name].astype(np.float64)
        finite = np.isfinite(a) & np.isfinite(b)
        out[f"{name}_nan_mismatch"] = int(np.count_nonzero(np.isfinite(a) != np.isfinite(b)))
        for label, sel in (("all", finite), ("good", finite & good)):
            rel = np.abs(a[sel] - b[sel]) / np.maximum(np.abs(b[sel]), 1e-3)
            out[f"{name}_{label}"] = {
                "n": int(sel.sum()),
                "p999": float(np.quantile(rel, 0.999)) if rel.size else 0.0,
                "max": float(rel.max()) if rel.size else 0.0,
                "n_gt_1e-5": int(np.count_nonzero(rel > 1e-5)),
            }
    return out


# ----------------------------------------------------------------------------- report
def _median(runs: list[dict], kind: str, name: str) -> float | None:
    values = [r[kind].get(name) for r in runs if r[kind].get(name) is not None]
    return statistics.median(values) if values else None


def _fmt(value: float | None, scale: float = 1.0, digits: int = 2) -> str:
    return "" if value is None else f"{value / scale:.{digits}f}"


def detector_section(key: str, steppe: list[dict], jwst: list[dict], rates: dict, diag: dict | None) -> list[str]:
    exp = DETECTORS[key]
    lines = [
        f"## {exp.instrument} {exp.detector} {exp.readpatt} FULL, {exp.nints} x {exp.ngroups} x "
        f"{exp.shape[0]} x {exp.shape[1]} ({exp.exp_type})",
        "",
        f"Medians of {len(steppe)} steppe and {len(jwst)} jwst runs. Status: `meta.cal_step` after the step "
        "(steppe / jwst). RSS: process peak (VmHWM) after the step, GiB.",
        "",
        "| step | on | status | steppe s | jwst s | steppe RSS | jwst RSS | isolated step vs jwst |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for name in pipeline_order(exp):
        on = steppe[0]["enabled"].get(name)
        on_j = jwst[0]["enabled"].get(name)
        status = f"{steppe[0]['status'].get(name)} / {jwst[0]['status'].get(name)}"
        iso = summary_line(diag[name]["isolated"]) if diag and name in diag else ""
        lines.append(
            f"| {name} | {'yes' if on else 'no'}{'' if on == on_j else ' (jwst differs!)'} | {status} | "
            f"{_fmt(_median(steppe, 'time', name))} | {_fmt(_median(jwst, 'time', name))} | "
            f"{_fmt(_median(steppe, 'hwm', name), GIB)} | {_fmt(_median(jwst, 'hwm', name), GIB)} | {iso} |"
        )
    s_total, j_total = _median(steppe, "time", "total"), _median(jwst, "time", "total")
    s_rss = statistics.median(r["peak_rss"] for r in steppe)
    j_rss = statistics.median(r["peak_rss"] for r in jwst)
    lines.append(f"| **total** (open to rate) | | | **{s_total:.2f}** | **{j_total:.2f}** | "
                 f"**{s_rss / GIB:.2f}** | **{j_rss / GIB:.2f}** | time jwst/steppe {j_total / s_total:.1f}, "
                 f"peak RSS jwst/steppe {j_rss / s_rss:.2f} |")
    lines += ["", "Rate product, steppe vs jwst:", ""]
    bits = ", ".join(f"{k} {v}" for k, v in rates["dq_bits"].items()) or "none"
    lines.append(f"- DQ: {rates['dq_pixels']} pixels differ; per bit: {bits}")
    for name, label in (("data", "SCI"), ("err", "ERR")):
        a, g = rates[f"{name}_all"], rates[f"{name}_good"]
        lines.append(
            f"- {label}: relative difference 99.9th percentile {a['p999']:.2g} over {a['n']} finite pixels "
            f"({a['n_gt_1e-5']} above 1e-5, max {a['max']:.2g}); without DO_NOT_USE pixels {g['p999']:.2g} "
            f"({g['n_gt_1e-5']} above 1e-5); NaN in one only: {rates[f'{name}_nan_mismatch']}"
            f" -> target < 1e-5 {'met' if a['p999'] < 1e-5 else 'NOT met'}"
        )
    if diag:
        lines += ["", "Chained (steppe's own ramp after each step vs jwst's; differences accumulate):", ""]
        for name in pipeline_order(exp):
            if name in diag:
                lines.append(f"- {name}: {summary_line(diag[name]['chained'])}")
        same = "identical (to 1e-5)"
        chained = []
        for name in pipeline_order(exp):
            previous = _before(exp, name)
            if (name in diag and previous in diag and summary_line(diag[name]["isolated"]) == same
                    and summary_line(diag[name]["chained"]) != same
                    and summary_line(diag[previous]["chained"]) == same):
                chained.append((name, CHAINED.get((key, name)) or CHAINED.get(("*", name))))
        if chained:
            lines += ["", "Differences that first appear in the chained run, and their causes:", ""]
            for name, note in chained:
                lines.append(f"- **{name}**: {summary_line(diag[name]['chained'])}. "
                             f"{note or 'Cause not yet investigated.'}")
        causes = [(name, NOTES.get((key, name)) or NOTES.get(("*", name))) for name in pipeline_order(exp)
                  if name in diag and summary_line(diag[name]["isolated"]) != "identical (to 1e-5)"]
        lines += ["", "Differences made by a step (isolated) and their causes:", ""]
        for name, note in causes:
            lines.append(f"- **{name}**: {summary_line(diag[name]['isolated'])}. "
                         f"{note or 'Cause not yet investigated.'}")
        if not causes:
            lines.append("- none: every step's output equals jwst's to 1e-5 given the same input")
    return lines + [""]


def _before(exp, name: str) -> str | None:
    """The step run before ``name`` in the exposure's pipeline (None for the first)."""
    order = pipeline_order(exp)
    index = order.index(name)
    return order[index - 1] if index else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default="miri,nirspec,nircam", help="comma-separated: miri, nirspec, nircam")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each pipeline per detector (default 1)")
    parser.add_argument("--workdir", default=None, help="folder for the synthetic files (default: a temp folder)")
    parser.add_argument("--regenerate", action="store_true", help="write the synthetic files again")
    parser.add_argument("--no-diagnose", action="store_true", help="skip the step-by-step comparison")
    parser.add_argument("--keep-steps", action="store_true", help="keep jwst's per-step arrays (GBs)")
    parser.add_argument("--report", default=str(REPORT), help=f"markdown report (default {REPORT})")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report again from the results.json files of --workdir")
    args = parser.parse_args(argv)
    python = os.environ.get("STEPPE_JWST_PYTHON")
    if not python and not args.report_only:
        print("set STEPPE_JWST_PYTHON to the python of an environment with jwst 3.0 installed", file=sys.stderr)
        return 2
    keys = [k.strip().lower() for k in args.detectors.split(",") if k.strip()]
    unknown = [k for k in keys if k not in DETECTORS]
    if unknown:
        parser.error(f"--detectors: unknown {unknown}; choose from {', '.join(DETECTORS)}")
    if args.report_only and not args.workdir:
        parser.error("--report-only needs the --workdir of an earlier run")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="d1cmp_"))
    sections = [
        "# steppe Detector1 vs jwst 3.0.0 calwebb_detector1",
        "",
        f"Synthetic full-frame exposures, same JWST-layout reference files for both (written with "
        f"stdatamodels). Machine: {os.cpu_count()} cores, shared: timings are provisional. "
        f"Command: `python benchmarks/detector1_vs_jwst.py --detectors {','.join(keys)} --repeat {args.repeat}`.",
        "",
    ]
    for key in keys:
        exp = DETECTORS[key]
        folder = workdir / exp.tag
        saved = folder / "results.json"
        if args.report_only:
            sections += detector_section(key, **json.loads(saved.read_text()))
            continue
        make_data(python, key, folder, args.regenerate)
        jwst_runs, steppe_runs = [], []
        for i in range(args.repeat):
            out = folder / ("jwst" if i == 0 else f"jwst_{i}")
            out.mkdir(exist_ok=True)
            jwst_runs.append(run_jwst(python, key, folder, out, save_steps=False))
            print(f"[{key}] jwst run {i + 1}: {jwst_runs[-1]['time']['total']:.1f} s", flush=True)
            sout = folder / ("steppe" if i == 0 else f"steppe_{i}")
            sout.mkdir(exist_ok=True)
            steppe_runs.append(run_steppe("run", key, folder, sout))
            print(f"[{key}] steppe run {i + 1}: {steppe_runs[-1]['time']['total']:.1f} s", flush=True)
        rates = compare_rates(folder / "steppe" / "rate.npz", folder / "jwst" / "rate.npz")
        diag = None
        if not args.no_diagnose:
            steps_out = folder / "jwst_steps"
            steps_out.mkdir(exist_ok=True)
            run_jwst(python, key, folder, steps_out, save_steps=True)
            diag = run_steppe("diagnose", key, folder, steps_out)
            if not args.keep_steps:
                shutil.rmtree(steps_out / "steps", ignore_errors=True)
            print(f"[{key}] step-by-step comparison done", flush=True)
        results = {"steppe": steppe_runs, "jwst": jwst_runs, "rates": rates, "diag": diag}
        saved.write_text(json.dumps(results))
        section = detector_section(key, **results)
        print("\n".join(section), flush=True)
        sections += section
    if not args.no_diagnose or args.report_only:
        sections += ["## Other findings", ""] + [f"- {finding}" for finding in FINDINGS] + [""]
    write_report(Path(args.report), sections)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
