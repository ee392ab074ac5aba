"""The IRS2 branch of RefPixStep: bad reference pixels, offsets, Fourier correction."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import DO_NOT_USE, mark_skipped
from builtin_steps.refpix.irs2_apply import (
    correct_irs2,
    detector_columns,
    flag_bad_reference,
    replace_flagged_reference,
    subtract_mean_offsets,
    usable_pixels,
    weights_from_table,
)
from builtin_steps.refpix.irs2_layout import Irs2Layout, irs2_normal_mask
from builtin_steps.refpix.orientation import orientation, to_detector
from pipeline_core.datamodels.dqflags import pixel as _PIXEL
from pipeline_core.errors import ReferenceFileError

__all__ = ["run_irs2"]

_BAD_REF_PIXEL = _PIXEL["BAD_REF_PIXEL"]


def run_irs2(step: Any, model: Any) -> Any:
    """Correct a NIRSpec IRS2 ramp (science orientation, 3200 values along one axis).

    Parameters
    ----------
    step : RefPixStep
        The running step (parameters, log, reference files).
    model : RampModel
        The IRS2 ramp; updated in place (its arrays lose the interleaved
        reference values unless ``preserve_irs2_refpix``).

    Returns
    -------
    RampModel
    """
    from pipeline_core.datamodels import IRS2Model, open_model
    from pipeline_core.references import check_reference_type

    exp = model.meta.exposure
    layout = Irs2Layout(int(exp.nrs_normal or 16), int(exp.nrs_reference or 4))
    kind = orientation(model.meta.instrument.detector)
    det = to_detector(model.data, kind)
    pdq = to_detector(model.pixeldq, kind)
    flagged = ((pdq & np.uint32(_BAD_REF_PIXEL)) != 0).any(axis=0)
    bad = flag_bad_reference(det, flagged, layout, step.ovr_corr_mitigation_ftr)
    pdq[:, bad] |= np.uint32(_BAD_REF_PIXEL | DO_NOT_USE)
    step.log.info("Bad interleaved reference columns flagged: %d", int(bad.sum()))
    if step.irs2_mean_subtraction:
        if step.use_side_ref_pixels:
            step.log.info("Turning off side pixel correction for IRS2")
        subtract_mean_offsets(det, usable_pixels(pdq), odd_even_columns=step.odd_even_columns, siglimit=step.siglimit)
    replaced = replace_flagged_reference(det, bad, layout)
    step.log.info("Bad interleaved reference columns replaced: %d", replaced)

    path = step.get_reference_file(model, "refpix")
    if path == "N/A":
        step.log.warning("No REFPIX reference file applies; step %s skipped", step.name)
        mark_skipped(step, model)
        return model
    ref = open_model(path)
    check_reference_type(step, ref, "refpix")
    if not isinstance(ref, IRS2Model) or ref.irs2_table is None:
        raise ReferenceFileError(
            f"step {step.name}: REFPIX reference '{ref.meta.filename or path}' has no IRS2 table "
            "(ALPHA_0..3, BETA_0..3); give a NIRSpec IRS2 REFPIX reference file"
        )
    table = ref.irs2_table
    found = np.asarray(table[table.dtype.names[0]]).size // 2
    expected = det.shape[-2] * layout.row
    if found != expected:
        step.log.error(
            "REFPIX reference '%s' holds %d weights per amplifier, but this readout needs %d; step skipped",
            ref.meta.filename or path, found, expected,
        )
        mark_skipped(step, model)
        return model
    alpha, beta = weights_from_table(table, hermitian=True)
    dq_table = ref.dq_table
    del ref, table  # the weights are read: free the reference file's table
    keep = np.ones(det.shape[-1], dtype=bool)
    if not step.preserve_irs2_refpix:
        keep = irs2_normal_mask(det.shape[-1], layout.scipix_n, layout.refpix_r)
    axis, columns = detector_columns(model.pixeldq.shape, kind)
    keep_sci = keep[columns]
    image = list(model.pixeldq.shape)
    image[axis] = int(keep_sci.sum())
    out = np.empty(model.data.shape[:-2] + tuple(image), dtype=np.float32)
    correct_irs2(
        det, alpha, beta, layout,
        bad_columns=bad, dq_table=dq_table, preserve_refpix=step.preserve_irs2_refpix,
        out=to_detector(out, kind),
    )
    del alpha, beta, det
    _store(model, out, keep_sci, axis)
    return model


def _store(model: Any, out: np.ndarray, keep_sci: np.ndarray, axis: int) -> None:
    """Set the corrected science-frame data; strip the other arrays of the dropped values."""
    arrays = {"data": out}
    for name in ("pixeldq", "groupdq", "err", "zeroframe"):
        array = getattr(model, name, None)
        if array is not None and array.shape[-2:] == model.pixeldq.shape:
            arrays[name] = np.compress(keep_sci, array, axis=axis)
    for name, array in arrays.items():
        setattr(model, name, array)
