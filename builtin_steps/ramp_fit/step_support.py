"""Step-side helpers of ramp fitting: an exposure's read pattern, saving ``fitopt``,
the MIRI groups left out, the PERSISTENCE flag of the rates and the read noise of
CHARGELOSS ramps."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps.ramp_fit.covariance import read_times
from pipeline_core.errors import ParameterError
from pipeline_core.output import make_output_path

__all__ = [
    "likely_read_pattern", "save_fitopt", "discard_miri_groups", "group_flags_union", "flag_persistence",
    "chargeloss_rnoise",
]

DO_NOT_USE = 1
JUMP_DET = 4
PERSISTENCE = 32
CHARGELOSS = 128
LARGE_VARIANCE_THRESHOLD = 1.0e6


def likely_read_pattern(step: Any, model: Any) -> tuple[tuple[float, ...], ...]:
    """The read times of every group of the exposure, for the likelihood fit.

    A ``meta.exposure.read_pattern`` (read times in seconds, one list per
    group) is used when present; otherwise groups of ``nframes`` frames
    separated by ``groupgap`` dropped frames, ``frame_time`` seconds each
    (``group_time / (nframes + groupgap)`` when the frame time is missing).

    Parameters
    ----------
    step : pipeline_core.Step
        The running step (named in errors).
    model : RampModel
        The exposure.

    Returns
    -------
    tuple of tuple of float

    Raises
    ------
    ParameterError
        If the timing keywords are missing or inconsistent.
    """
    exposure = model.meta.exposure
    ngroups = model.data.shape[1]
    pattern = exposure.read_pattern
    if pattern is not None:
        groups = tuple(tuple(float(t) for t in group) for group in pattern)
        if len(groups) != ngroups:
            raise ParameterError(
                f"step {step.name}: meta.exposure.read_pattern has {len(groups)} groups; the "
                f"data have {ngroups}"
            )
        return groups
    nframes = int(exposure.nframes or 1)
    groupgap = int(exposure.groupgap or 0)
    frame_time = exposure.frame_time or exposure.group_time / (nframes + groupgap)
    if not frame_time or frame_time <= 0:
        raise ParameterError(
            f"step {step.name}: the input '{model.meta.filename or 'ramp'}' has no usable frame "
            f"time (meta.exposure.frame_time = {exposure.frame_time!r}); algorithm='LIKELY' needs "
            "it for the read pattern"
        )
    return read_times(ngroups, nframes, groupgap, float(frame_time))


def save_fitopt(step: Any, opt: Any) -> str | None:
    """Save the optional product the way the JWST step does.

    With ``opt_name`` the product goes to that name (its extension and known
    suffix replaced by ``_fitopt``), in ``output_dir`` when given; otherwise it
    is saved with suffix ``fitopt`` like the step's other products, that is
    only when the step saves its results.

    Parameters
    ----------
    step : RampFitStep
        The running step.
    opt : RampFitOutputModel
        The product.

    Returns
    -------
    str or None
        The path written, or None.
    """
    if not step.opt_name:
        path = step.save_model(opt, "fitopt")
        if path is None:
            step.log.info(
                "save_opt=True: the fitopt product is written only when the step saves its "
                "results (save_results or output_file) or opt_name names it"
            )
        return path
    from pipeline_core.steps.provenance import record_provenance

    path = make_output_path(
        step.opt_name, "fitopt", output_file=step.opt_name, output_dir=step._search("output_dir"),
        known_suffixes=step._known_suffixes(), ext=step.output_ext,
    )
    record_provenance(step, opt)
    written = opt.save(path)
    path = written if isinstance(written, str) else path
    step.log.info("Step %s saved %s", step.name, path)
    return path


def discard_miri_groups(
    data: np.ndarray, groupdq: np.ndarray, *, log: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Leave out the MIRI groups flagged DO_NOT_USE in every pixel, as JWST's OLS fit does.

    The leading groups DO_NOT_USE everywhere (``firstframe``, ``rscd``) and the
    last group when it is DO_NOT_USE everywhere (``lastframe``) are dropped;
    when leading groups are dropped, JUMP_DET is cleared on the new first group.
    Their flags then do not reach the rate's DQ (a SATURATED or PERSISTENCE
    last group, for example). When fewer than 2 groups would remain, nothing
    is dropped (JWST returns no rate then) and a warning is logged.

    Parameters
    ----------
    data : ndarray, shape (nints, ngroups, ny, nx)
        The ramps.
    groupdq : ndarray of uint8, same shape
        Their group flags (not modified).
    log : logging.Logger
        Where the messages go.

    Returns
    -------
    (ndarray, ndarray)
        Views of the kept groups of `data` and `groupdq` (`groupdq` copied when
        JUMP_DET is cleared); the inputs themselves when nothing is dropped.
    """
    ngroups = data.shape[1]
    if ngroups < 2:
        return data, groupdq
    lead = 0
    while lead < ngroups and np.all(groupdq[:, lead] & DO_NOT_USE):
        lead += 1
    end = ngroups
    if lead < ngroups and np.all(groupdq[:, end - 1] & DO_NOT_USE):
        end -= 1
    if end - lead < 2:
        log.warning(
            "MIRI ramps keep %d group(s) once the groups flagged DO_NOT_USE everywhere are left out; "
            "all %d groups are fitted", max(end - lead, 0), ngroups,
        )
        return data, groupdq
    if lead == 0 and end == ngroups:
        return data, groupdq
    log.info("MIRI ramps: leaving out %d leading and %d final group(s) flagged DO_NOT_USE in every pixel",
             lead, ngroups - end)
    kept = groupdq[:, lead:end]
    if lead:
        kept = kept.copy()
        kept[:, 0] &= np.uint8(0xFF & ~JUMP_DET)
    return data[:, lead:end], kept


def group_flags_union(groupdq: np.ndarray) -> np.ndarray:
    """The bits set in any group of each integration's pixel: ``(nints, ny, nx)`` uint8.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Group flags.

    Returns
    -------
    ndarray of uint8, shape (nints, ny, nx)
    """
    return np.bitwise_or.reduce(groupdq, axis=1)


def flag_persistence(products: dict[str, np.ndarray], groupdq: np.ndarray, union: np.ndarray | None = None) -> None:
    """Set PERSISTENCE in the rates' DQ where a group of the ramp has it (JWST's OLS fit does).

    Parameters
    ----------
    products : dict
        The fit's outputs; ``ints_dq`` (per integration) and ``rate_dq`` are updated.
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        The group flags that were fitted.
    union : ndarray of uint8, shape (nints, ny, nx), optional
        ``group_flags_union(groupdq)``, if already computed.
    """
    # the flags of all groups OR-ed together, plane by plane: no full-size temporary
    union = group_flags_union(groupdq) if union is None else union
    persistent = (union & np.uint8(PERSISTENCE)) != 0
    if not persistent.any():
        return
    products["ints_dq"] |= np.where(persistent, PERSISTENCE, 0).astype(products["ints_dq"].dtype)
    products["rate_dq"] |= np.where(persistent.any(axis=0), PERSISTENCE, 0).astype(products["rate_dq"].dtype)


def chargeloss_rnoise(
    products: dict[str, np.ndarray], inputs: dict[str, np.ndarray], gain: np.ndarray,
    readnoise: np.ndarray, kwargs: dict, fit: Any,
) -> None:
    """Read-noise variances of the ramps with CHARGELOSS groups, as JWST's OLS fit gives them.

    The slope leaves out the groups flagged CHARGELOSS (and DO_NOT_USE) by
    ``charge_migration``, but JWST computes their read-noise variance as if
    those groups were usable: the segments of the ramp with the CHARGELOSS and
    DO_NOT_USE bits of those groups toggled off. ``VAR_RNOISE`` of the
    integrations with such groups, and the exposure's, are replaced (``ERR`` is
    left as fitted, as in JWST).

    Parameters
    ----------
    products : dict
        The fit's outputs; ``ints_var_rnoise`` and ``rate_var_rnoise`` are updated.
    inputs : dict
        The fitted ``data``, ``groupdq`` and ``pixeldq``.
    gain, readnoise : ndarray, shape (ny, nx)
        The references used by the fit.
    kwargs : dict
        The fit's keyword arguments.
    fit : callable
        The OLS kernel (:func:`builtin_steps.ramp_fit.ols.fit_ramps`).
    """
    groupdq = inputs["groupdq"]
    per_int = (groupdq & np.uint8(CHARGELOSS)).any(axis=1)  # (nints, ny, nx)
    ys, xs = np.nonzero(per_int.any(axis=0))
    if ys.size == 0:
        return
    gdq = groupdq[:, :, ys, xs]
    hit = (gdq & np.uint8(CHARGELOSS)) != 0
    gdq[hit] ^= np.uint8(CHARGELOSS | DO_NOT_USE)
    refit = fit(
        inputs["data"][:, :, ys, xs][..., None], gdq[..., None], inputs["pixeldq"][ys, xs][:, None],
        gain[ys, xs][:, None], readnoise[ys, xs][:, None], **{**kwargs, "suppress_one_group": False},
    )
    ints = products["ints_var_rnoise"][:, ys, xs]
    ints = np.where(per_int[:, ys, xs], refit["ints_var_rnoise"][..., 0], ints)
    products["ints_var_rnoise"][:, ys, xs] = ints
    with np.errstate(divide="ignore"):
        inverse = np.where(ints > 0, 1.0 / ints.astype(np.float64), 0.0).sum(axis=0)
    rate = products["rate_var_rnoise"][ys, xs]
    rate = np.where(inverse > 0, 1.0 / np.where(inverse > 0, inverse, 1.0), rate)
    products["rate_var_rnoise"][ys, xs] = np.where(rate >= LARGE_VARIANCE_THRESHOLD, 0.0, rate)
