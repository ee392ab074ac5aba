"""Step-side helpers of ramp fitting: an exposure's read pattern, saving ``fitopt``."""

from __future__ import annotations

from typing import Any

from builtin_steps.ramp_fit.covariance import read_times
from pipeline_core.errors import ParameterError
from pipeline_core.output import make_output_path

__all__ = ["likely_read_pattern", "save_fitopt"]


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
