"""steppe's Image3 against JWST's calwebb_image3: time, peak memory and catalogs; steppe's growth with N.

1. Writes an association of ``--exposures`` dithered full-frame NIRCam ``cal``
   files (:mod:`image3_vs_jwst_data`: one star field, cosmic rays, WCS from
   steppe's ``assign_wcs``) and ``apcorr``/``abvegaoffset`` reference files
   (written with ``stdatamodels`` in the JWST environment, named to both
   pipelines with ``override_<reftype>``).
2. Runs JWST 3.0's ``Image3Pipeline`` (in the environment named by
   ``STEPPE_JWST_PYTHON``) and steppe's, ``--repeat`` times each, each run in a
   fresh process with ``in_memory`` as asked; records wall time, peak resident
   memory (``VmHWM`` of the child) and each step's time; reports medians and the
   ratios jwst/steppe measured in this run.
3. Compares the catalogs: sources matched on the sky within 0.1 arcsec, the
   flux ratio steppe/jwst (median and 16-84 % half-width) and position offsets.
4. With ``--scaling 20,100``: steppe alone on that many exposures (written in a
   temporary folder removed afterwards; 100 full frames are ~10 GB, and an
   on-disk library writes as much again while it runs), to show how time and
   peak memory grow with the number of exposures. These runs save no products
   (no ``crf`` per exposure); the mosaic and catalog are still made.

Writes the report to ``benchmarks/results/image3_vs_jwst.md``.

Run::

    STEPPE_JWST_PYTHON=/work/jwst-env/bin/python python benchmarks/image3_vs_jwst.py
    python benchmarks/image3_vs_jwst.py --no-jwst --scaling 20,100
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
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from child_process import run_child, write_report  # noqa: E402
from image_compare import sci_differences, wcs_offset_mas  # noqa: E402

REPORT = HERE / "results" / "image3_vs_jwst.md"
GIB = 1024**3
PRODUCT = "jw01234-o001_t001_nircam_clear-f200w"

JWST_REFS = """
import sys
import numpy as np
from stdatamodels.jwst.datamodels import ABVegaOffsetModel, NrcImgApcorrModel
folder, sigma = sys.argv[1], float(sys.argv[2])
def meta(model, reftype):
    m = model.meta
    m.reftype, m.author, m.pedigree, m.useafter = reftype, "steppe benchmark", "DUMMY", "2022-01-01T00:00:00"
    m.description = "synthetic " + reftype + " for the steppe/jwst Image3 comparison"
    m.instrument.name = "NIRCAM"
    m.telescope = "JWST"
    return model
ee = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
radius = sigma * np.sqrt(-2.0 * np.log(1.0 - ee))
rows = [("F200W", "CLEAR", e, r, 1.0 / e, 8 * sigma, 12 * sigma) for e, r in zip(ee, radius)]
table = np.array(rows, dtype=[("filter", "S12"), ("pupil", "S15"), ("eefraction", "<f4"), ("radius", "<f4"),
                              ("apcorr", "<f4"), ("skyin", "<f4"), ("skyout", "<f4")])
apcorr = meta(NrcImgApcorrModel(apcorr_table=table), "APCORR")
apcorr.save(folder + "/nircam_apcorr.fits")
from astropy.table import Table
offsets = Table({"filter": ["F200W"], "pupil": ["CLEAR"], "abvega_offset": [1.75]})
abvega = ABVegaOffsetModel()
abvega.abvega_offset = offsets
abvega = meta(abvega, "ABVEGAOFFSET")
abvega.save(folder + "/nircam_abvegaoffset.asdf")
"""


def _env() -> dict:
    from builtin_steps.refdata.cache import ensure_embedded_cache
    from pipeline_core.references import crds_client

    # the embedded set is a complete CRDS cache: both pipelines read their context from it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(STPIPE_DISABLE_CRDS_STEPPARS="1", CRDS_PATH=ensure_embedded_cache(),
               CRDS_SERVER_URL=crds_client.SERVERLESS_URL)
    return env


def write_data(folder: Path, count: int, env: dict) -> Path:
    """Write ``count`` cal files and their association into ``folder``."""
    out = run_child([sys.executable, str(HERE / "image3_vs_jwst_data.py"), str(folder), str(count)], env)
    print(f"  {count} cal files written in {out['seconds']:.0f} s", flush=True)
    return Path(out["asn"])


def step_parameters(refs: Path | None) -> dict:
    """The parameters both pipelines get: the catalog's references, nothing else changed."""
    if refs is None:
        return {}
    return {"source_catalog": {"override_apcorr": str(refs / "nircam_apcorr.fits"),
                               "override_abvegaoffset": str(refs / "nircam_abvegaoffset.asdf")}}


def run(which: str, python: str, asn: Path, outdir: Path, in_memory: bool, steps: dict, env: dict,
        save: bool = True) -> dict:
    """One timed run of one pipeline in a fresh process (``save``: write the products)."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [python, str(HERE / "image3_vs_jwst_run.py"), which, str(asn), str(outdir),
           "1" if in_memory else "0", json.dumps(steps), "1" if save else "0"]
    result = run_child(cmd, env, log=outdir / f"{which}.log")
    print(f"  {which}: {result['seconds']:.1f} s, peak RSS {result['peak_rss'] / GIB:.2f} GiB", flush=True)
    return result


# ----------------------------------------------------------------------------- catalogs
def _sky(table) -> tuple[np.ndarray, np.ndarray]:
    if "sky_centroid" in table.colnames:
        coord = table["sky_centroid"]
        return np.asarray(coord.ra.deg, float), np.asarray(coord.dec.deg, float)
    return np.asarray(table["ra"], float), np.asarray(table["dec"], float)


#: Flux columns compared, when both catalogs have them.
FLUX_COLUMNS = ("isophotal_flux", "aper_total_flux", "aper50_flux")


def compare_catalogs(mine_path: Path, theirs_path: Path, radius_arcsec: float = 0.1) -> dict:
    """Match the sources of two catalogs on the sky; flux ratio and position offsets of the matches."""
    from astropy.table import Table
    from scipy.spatial import cKDTree

    mine, theirs = Table.read(mine_path), Table.read(theirs_path)
    ra1, dec1 = _sky(mine)
    ra2, dec2 = _sky(theirs)
    dec0 = np.deg2rad(np.nanmedian(dec2))
    p1 = np.column_stack([ra1 * np.cos(dec0), dec1]) * 3600.0
    p2 = np.column_stack([ra2 * np.cos(dec0), dec2]) * 3600.0
    ok1, ok2 = np.all(np.isfinite(p1), axis=1), np.all(np.isfinite(p2), axis=1)
    dist, idx = cKDTree(p2[ok2]).query(p1[ok1], distance_upper_bound=radius_arcsec)
    hit = np.isfinite(dist)
    i1 = np.flatnonzero(ok1)[hit]
    i2 = np.flatnonzero(ok2)[idx[hit]]
    out: dict = {"steppe": len(mine), "jwst": len(theirs), "matched": int(hit.sum()), "flux": {}}
    if hit.any():
        offsets = dist[hit] * 1000.0
        out.update(offset_median_mas=float(np.median(offsets)), offset_p90_mas=float(np.quantile(offsets, 0.9)))
    for column in FLUX_COLUMNS:
        if column not in mine.colnames or column not in theirs.colnames or not hit.any():
            continue
        f1 = np.asarray(getattr(mine[column], "value", mine[column]), float)[i1]
        f2 = np.asarray(getattr(theirs[column], "value", theirs[column]), float)[i2]
        good = np.isfinite(f1) & np.isfinite(f2) & (f2 > 0)
        ratio = f1[good] / f2[good]
        if ratio.size:
            lo, med, hi = np.quantile(ratio, [0.16, 0.5, 0.84])
            out["flux"][column] = {"median": float(med), "spread": float((hi - lo) / 2), "n": int(ratio.size)}
    return out


def compare_mosaics(mine_path: Path, theirs_path: Path) -> list[str]:
    """Report lines on two i2d products: grid, WCS, values and total flux."""
    from pipeline_core.datamodels import open_model

    mine, theirs = open_model(str(mine_path)), open_model(str(theirs_path))
    lines = [f"Mosaic (i2d): steppe {mine.data.shape}, jwst {theirs.data.shape}."]
    lines.append(f"Largest sky offset of the two WCSs over the mosaic: {wcs_offset_mas(mine, theirs):.3g} mas.")
    if mine.data.shape == theirs.data.shape:
        a, b, good, rel = sci_differences(mine, theirs)
        lines.append(f"SCI: relative difference median {np.median(rel):.2g}, 99th percentile "
                     f"{np.quantile(rel, 0.99):.2g} over {good.sum()} pixels; NaN in one only: "
                     f"{int((np.isfinite(a) != np.isfinite(b)).sum())}.")
        lines.append(f"Total flux ratio steppe/jwst over pixels finite in both: {a[good].sum() / b[good].sum():.6f}.")
    return lines


# ----------------------------------------------------------------------------- report
def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _step_median(runs: list[dict], name: str, i: int) -> float | None:
    values = [r["steps"][name][i] for r in runs if name in r["steps"]]
    return statistics.median(values) if values else None


def comparison_section(count: int, in_memory: bool, steppe: list[dict], jwst: list[dict], cat: dict | None,
                       mosaic: list[str]) -> list[str]:
    s_t, j_t = _median(steppe, "seconds"), _median(jwst, "seconds")
    s_m, j_m = _median(steppe, "peak_rss"), _median(jwst, "peak_rss")
    lines = [
        f"## jwst 3.0.0 and steppe on {count} full-frame NIRCam exposures (in_memory={in_memory})",
        "",
        f"Medians of {len(steppe)} run(s) each, each in a fresh process. RSS: peak resident memory (VmHWM) "
        "after the step, GiB.",
        "",
        "| step | steppe s | jwst s | steppe RSS | jwst RSS |",
        "|---|---:|---:|---:|---:|",
    ]
    from image3_vs_jwst_run import STEPS

    def fmt(value: float | None, scale: float = 1.0) -> str:
        return "not run" if value is None else f"{value / scale:.2f}"

    for name in STEPS:
        lines.append(f"| {name} | {fmt(_step_median(steppe, name, 0))} | {fmt(_step_median(jwst, name, 0))} | "
                     f"{fmt(_step_median(steppe, name, 1), GIB)} | {fmt(_step_median(jwst, name, 1), GIB)} |")
    lines += [
        f"| **total** | **{s_t:.1f}** | **{j_t:.1f}** | **{s_m / GIB:.2f}** | **{j_m / GIB:.2f}** |",
        "",
        f"Time jwst/steppe **{j_t / s_t:.2f}**; peak RSS jwst/steppe **{j_m / s_m:.2f}**.",
        "",
    ]
    lines += [*mosaic, ""] if mosaic else []
    if cat:
        lines.append(f"Catalogs: steppe {cat['steppe']} sources, jwst {cat['jwst']}, matched within 0.1\" "
                     f"{cat['matched']}.")
        if "offset_median_mas" in cat:
            lines.append(f"Position offset of the matches: median {cat['offset_median_mas']:.3g} mas, "
                         f"90th percentile {cat['offset_p90_mas']:.3g} mas.")
        for column, r in cat["flux"].items():
            lines.append(f"Flux ratio steppe/jwst, `{column}` ({r['n']} sources): median {r['median']:.4f}, "
                         f"16-84 % half-width {r['spread']:.2g}.")
        lines.append("")
    return lines


def scaling_section(results: list[dict], in_memory: bool) -> list[str]:
    lines = [
        f"## steppe alone: growth with the number of exposures (in_memory={in_memory})",
        "",
        "Products not saved (`save_results=False`); the mosaic and its catalog are made.",
        "",
        "| exposures | total s | s per exposure | peak RSS GiB | tweakreg s | outlier_detection s | resample s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        n, steps = r["count"], r["steps"]

        def step_time(name: str) -> str:
            return f"{steps[name][0]:.0f}" if name in steps else ""

        lines.append(f"| {n} | {r['seconds']:.0f} | {r['seconds'] / n:.1f} | {r['peak_rss'] / GIB:.2f} | "
                     f"{step_time('tweakreg')} | {step_time('outlier_detection')} | {step_time('resample')} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and the scaling runs; write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exposures", type=int, default=4, help="exposures of the jwst comparison (default 4)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each pipeline (default 1)")
    parser.add_argument("--in-memory", action="store_true", help="run with in_memory=True (default: False)")
    parser.add_argument("--scaling", default="", help="comma-separated exposure counts for steppe alone, e.g. 20,100")
    parser.add_argument("--no-jwst", action="store_true", help="skip the comparison with jwst")
    parser.add_argument("--workdir", default=None, help="folder for the comparison's files (default: temporary)")
    parser.add_argument("--report", default=str(REPORT), help=f"markdown report (default {REPORT})")
    args = parser.parse_args(argv)
    python = os.environ.get("STEPPE_JWST_PYTHON")
    if not args.no_jwst and not python:
        print("set STEPPE_JWST_PYTHON to the python of an environment with jwst 3.0 installed, or give --no-jwst",
              file=sys.stderr)
        return 2
    try:
        counts = [int(c) for c in args.scaling.split(",") if c.strip()]
    except ValueError:
        parser.error(f"--scaling = {args.scaling!r}: give exposure counts separated by commas, e.g. 20,100")
    if any(c < 2 for c in counts) or args.exposures < 2:
        parser.error("Image3 needs at least 2 exposures (--exposures, --scaling)")
    env = _env()
    sections = [
        "# steppe Image3 vs jwst 3.0.0 calwebb_image3",
        "",
        f"Synthetic dithered full-frame NIRCam NRCA1 F200W `cal` files (2048 x 2048, one star field, cosmic rays). "
        f"Machine: {os.cpu_count()} cores, shared: timings are provisional. Command: "
        f"`python benchmarks/image3_vs_jwst.py {' '.join(argv if argv is not None else sys.argv[1:])}`.",
        "",
    ]
    if not args.no_jwst:
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="i3cmp_"))
        refs = workdir / "refs"
        refs.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-c", JWST_REFS, str(refs), "1.1"], check=True, env=env)
        print(f"[comparison] {args.exposures} exposures in {workdir}", flush=True)
        asn = write_data(workdir / "cal", args.exposures, env)
        steps = step_parameters(refs)
        jwst_runs, steppe_runs = [], []
        for i in range(args.repeat):
            jwst_runs.append(run("jwst", python, asn, workdir / f"jwst_{i}", args.in_memory, steps, env))
            steppe_runs.append(run("steppe", sys.executable, asn, workdir / f"steppe_{i}", args.in_memory, steps, env))
        cat = None
        mine, theirs = workdir / "steppe_0" / f"{PRODUCT}_cat.ecsv", workdir / "jwst_0" / f"{PRODUCT}_cat.ecsv"
        if mine.exists() and theirs.exists():
            cat = compare_catalogs(mine, theirs)
        mosaic = compare_mosaics(*(workdir / f"{who}_0" / f"{PRODUCT}_i2d.fits" for who in ("steppe", "jwst")))
        sections += comparison_section(args.exposures, args.in_memory, steppe_runs, jwst_runs, cat, mosaic)
        print("\n".join(sections[-20:]), flush=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    scaling = []
    for count in counts:
        folder = Path(tempfile.mkdtemp(prefix=f"i3scale{count}_"))
        try:
            print(f"[scaling] {count} exposures in {folder}", flush=True)
            asn = write_data(folder / "cal", count, env)
            result = run("steppe", sys.executable, asn, folder / "steppe", args.in_memory, {}, env, save=False)
            scaling.append(dict(result, count=count))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if scaling:
        sections += scaling_section(scaling, args.in_memory)
        print("\n".join(sections[-len(scaling) - 5:]), flush=True)
    write_report(Path(args.report), sections)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
