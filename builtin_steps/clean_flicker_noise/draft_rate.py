"""The draft count rate that scene masks are made from: a ramp fit.

clean_flicker_noise and picture_frame mask the scene of a ramp from a draft
rate image. As in jwst, that rate is what the ``ramp_fit`` step makes with its
default parameters (algorithm OLS_C, optimal weighting, one-group ramps
suppressed, MIRI's unusable leading and final groups left out), from the gain
and read-noise reference files looked up for the masking step itself: its
``override_gain`` / ``override_readnoise`` when given, else CRDS (jwst's draft
fit runs a fresh ramp-fit step, so it never sees the overrides given to the
pipeline's ``ramp_fit``). The fit works on a view of the ramp: the ramp's
arrays and metadata are not changed.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from builtin_steps._common import required_reference_path

__all__ = ["DRAFT_REFERENCE_TYPES", "draft_rate"]

#: The reference types the draft fit reads.
DRAFT_REFERENCE_TYPES = ("gain", "readnoise")


def draft_rate(step: Any, model: Any, *, per_integration: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Fit the ramps of a model for a draft rate image.

    Parameters
    ----------
    step : pipeline_core.Step
        The masking step: its ``override_gain`` and ``override_readnoise`` (or
        CRDS) choose the reference files; its name labels the messages.
    model : RampModel
        The ramp (after jump detection). Not modified.
    per_integration : bool
        Return the per-integration rates ``(nints, ny, nx)`` (jwst's rateints)
        instead of the exposure's rate ``(ny, nx)``.

    Returns
    -------
    rate : numpy.ndarray
        float32 rate in DN/s (NaN where no group is usable).
    dq : numpy.ndarray
        The rate's DQ (pixel DQ plus the flags of the fit, e.g. DO_NOT_USE
        where the ramp has no usable group); shape of ``rate``.

    Raises
    ------
    ReferenceFileError
        If no gain or read-noise reference file applies to the ramp.
    """
    from builtin_steps.ramp_fit.step import RampFitStep
    from pipeline_core.datamodels import RampModel

    view = RampModel(model)  # the same arrays, its own metadata
    overrides = {}
    for reftype in DRAFT_REFERENCE_TYPES:
        overrides[f"override_{reftype}"] = required_reference_path(
            step, view, reftype, "the draft rate for the scene mask is a ramp fit, which needs gain and readnoise"
        )
    step.log.info(
        "Creating draft rate for scene masking (ramp fit, OLS_C; gain %s, readnoise %s)",
        _label(overrides["override_gain"]), _label(overrides["override_readnoise"]),
    )
    fitter = RampFitStep(name=f"{step.name}.draft_rate", parent=step, **overrides)
    logger = fitter.log
    level = logger.level
    logger.setLevel(max(logging.WARNING, level))  # as jwst: only the fit's warnings are shown
    try:
        rate, rateints = fitter.process(view)
    finally:
        logger.setLevel(level)
    product = rateints if per_integration else rate
    return np.asarray(product.data, dtype=np.float32), np.asarray(product.dq)


def _label(reference: Any) -> str:
    """The file name of a reference (a path or an opened model)."""
    if isinstance(reference, str):
        return reference
    return str(getattr(reference.meta, "filename", None) or type(reference).__name__)
