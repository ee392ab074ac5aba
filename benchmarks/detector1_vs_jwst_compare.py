"""Array comparisons of the steppe-versus-JWST Detector1 benchmark.

:func:`compare_products` compares two sets of step outputs (the arrays one step
returned, as :func:`arrays_of` lists them), :func:`summary_line` formats one
comparison for the report.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DQ_BITS", "arrays_of", "compare_products", "differing_bits", "summary_line"]

#: JWST data-quality bits by value (pixel and group flags share their names).
DQ_BITS = {
    0: "DO_NOT_USE", 1: "SATURATED", 2: "JUMP_DET", 3: "DROPOUT", 4: "OUTLIER", 5: "PERSISTENCE",
    6: "AD_FLOOR", 7: "CHARGELOSS", 8: "UNRELIABLE_ERROR", 9: "NON_SCIENCE", 10: "DEAD", 11: "HOT",
    12: "WARM", 13: "LOW_QE", 14: "RC", 15: "TELEGRAPH", 16: "NONLINEAR", 17: "BAD_REF_PIXEL",
    18: "NO_FLAT_FIELD", 19: "NO_GAIN_VALUE", 20: "NO_LIN_CORR", 21: "NO_SAT_CHECK", 22: "UNRELIABLE_BIAS",
    23: "UNRELIABLE_DARK", 24: "UNRELIABLE_SLOPE", 25: "UNRELIABLE_FLAT", 26: "OPEN", 27: "ADJ_OPEN",
    28: "FLUX_ESTIMATED", 29: "MSA_FAILED_OPEN", 30: "OTHER_BAD_PIXEL", 31: "REFERENCE_PIXEL",
}  # fmt: skip

_DQ_NAMES = ("groupdq", "pixeldq", "dq")
#: Denominator floors of relative differences: DN for ramps, DN/s for rates.
_FLOOR = {"ramp": 1.0, "rate": 1e-3}


def arrays_of(result) -> dict[str, np.ndarray]:
    """The arrays a step returned: a ramp's, a rate's, or ramp_fit's pair (prefixed)."""
    if isinstance(result, (tuple, list)):
        out: dict[str, np.ndarray] = {}
        for prefix, model in zip(("rate", "rateints"), result, strict=False):
            if model is not None:
                out.update({f"{prefix}_{k}": v for k, v in arrays_of(model).items()})
        return out
    if getattr(result, "groupdq", None) is not None:
        names = ("data", "groupdq", "pixeldq")
    else:
        names = ("data", "dq", "err", "var_poisson", "var_rnoise")
    return {n: np.asarray(getattr(result, n)) for n in names if getattr(result, n, None) is not None}


def differing_bits(mine: np.ndarray, theirs: np.ndarray) -> dict[str, int]:
    """Count of elements whose value of each DQ bit differs, by bit name (non-zero only)."""
    xor = np.bitwise_xor(mine.astype(np.uint32), theirs.astype(np.uint32))
    counts = {}
    for bit, name in DQ_BITS.items():
        n = int(np.count_nonzero(xor & np.uint32(1 << bit)))
        if n:
            counts[name] = n
    return counts


def _compare_float(mine: np.ndarray, theirs: np.ndarray, floor: float) -> dict:
    a, b = mine.astype(np.float64), theirs.astype(np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    both = fa & fb
    out = {"nan_mismatch": int(np.count_nonzero(fa != fb)), "compared": int(both.sum())}
    if not both.any():
        return out | {"max_abs": 0.0, "rel_999": 0.0, "rel_max": 0.0, "n_rel_gt_1e-5": 0}
    diff = np.abs(a[both] - b[both])
    rel = diff / np.maximum(np.abs(b[both]), floor)
    out.update(
        max_abs=float(diff.max()),
        rel_999=float(np.quantile(rel, 0.999)),
        rel_max=float(rel.max()),
        **{"n_rel_gt_1e-5": int(np.count_nonzero(rel > 1e-5))},
    )
    return out


def compare_products(mine: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> dict:
    """Compare the arrays of two step outputs, array by array."""
    out: dict = {}
    for name in sorted(set(mine) | set(theirs)):
        if name not in mine or name not in theirs:
            out[name] = {"missing": "steppe" if name not in mine else "jwst"}
            continue
        a, b = mine[name], theirs[name]
        if a.shape != b.shape:
            out[name] = {"shape": [list(a.shape), list(b.shape)]}
            continue
        base = name.split("_", 1)[1] if name.startswith(("rate_", "rateints_", "ints_")) else name
        if base in _DQ_NAMES:
            out[name] = {"bits": differing_bits(a, b), "pixels": int(np.count_nonzero(a != b))}
        else:
            kind = "ramp" if "groupdq" in mine else "rate"
            out[name] = _compare_float(a, b, _FLOOR[kind])
    return out


def summary_line(comparison: dict) -> str:
    """One line per comparison: arrays that differ, with their figures."""
    parts = []
    for name, c in comparison.items():
        if "missing" in c:
            parts.append(f"{name}: only in {'jwst' if c['missing'] == 'steppe' else 'steppe'}")
        elif "shape" in c:
            parts.append(f"{name}: shapes {c['shape'][0]} vs {c['shape'][1]}")
        elif "bits" in c:
            if c["bits"]:
                parts.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in c["bits"].items()))
        elif c.get("nan_mismatch") or c.get("n_rel_gt_1e-5"):
            parts.append(
                f"{name}: {c['n_rel_gt_1e-5']} px rel>1e-5, p99.9 {c['rel_999']:.2g}, max|d| {c['max_abs']:.3g}"
                + (f", NaN mismatch {c['nan_mismatch']}" if c["nan_mismatch"] else "")
            )
    return "; ".join(parts) if parts else "identical (to 1e-5)"
