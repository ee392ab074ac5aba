"""SaturationStep: flag saturated groups and groups below the A/D floor."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import load_reference, mark_skipped, open_ramp
from builtin_steps.saturation.flag import flag_saturation, prepare_threshold, read_pattern
from pipeline_core import Step
from pipeline_core.errors import ReferenceFileError

__all__ = ["SaturationStep"]


class SaturationStep(Step):
    """Flag SATURATED groups from the SATURATION reference thresholds.

    A group at or above the threshold is flagged with every later group, and
    the flag grows to ``n_pix_grow_sat`` layers of neighbours. Groups at or
    below 0 DN are flagged AD_FLOOR and DO_NOT_USE. Pixels whose threshold is
    NaN or flagged NO_SAT_CHECK are not checked. With ``use_readpatt``,
    frame-averaged groups that saturated part-way are also flagged DO_NOT_USE;
    the group-2 test removes the SUPERBIAS from the first group before
    extrapolating it. NIRSpec IRS2 readouts are checked on their normal pixels.
    """

    class_alias = "saturation"
    legacy_class_paths = ("jwst.saturation.saturation_step.SaturationStep",)
    reference_file_types = ("saturation", "superbias")
    spec = """
        n_pix_grow_sat = integer(default=1, min=0) # number of layers adjacent pixels to flag
        use_readpatt = boolean(default=True) # Use grouped read pattern information to assist with flagging
    """

    def process(self, step_input: Any) -> Any:
        """Flag the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The flagged (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        irs2 = _irs2_columns(model)
        if irs2 is not None:
            return self._irs2(model, *irs2)
        ref = load_reference(self, model, "saturation")
        if ref is None:
            return model
        # the reference model was opened by this step: update its arrays in place
        thr, dq = prepare_threshold(ref.data, ref.dq, copy=False)
        frames = self._frames(model)
        bias = self._bias(model) if frames is not None and model.data.shape[1] > 2 else None
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame else None
        nsat, nfloor = flag_saturation(
            model.data, model.groupdq, thr,
            n_pix_grow_sat=self.n_pix_grow_sat, frames=frames, zeroframe=zeroframe, bias=bias,
        )
        model.pixeldq |= dq
        self.log.info("Detected %d saturated pixels", nsat)
        self.log.info("Detected %d A/D floor pixels", nfloor)
        return model

    def _frames(self, model: Any) -> list[list[int]] | None:
        exp = model.meta.exposure
        if not (self.use_readpatt and exp.nframes):
            return None
        return read_pattern(model.data.shape[1], int(exp.nframes), int(exp.groupgap or 0))

    def _bias(self, model: Any, *, check_shape: bool = True) -> np.ndarray | None:
        """The SUPERBIAS under the science pixels, or None when none is available.

        An ``override_superbias`` that cannot be used is an error; without one,
        a failed lookup only disables the bias in the group-2 test (the file is
        optional for this step), with a warning.
        """
        from pipeline_core.datamodels import open_model
        from pipeline_core.references import check_reference_shape, check_reference_type

        try:
            path = self.get_reference_file(model, "superbias")
        except ReferenceFileError as error:
            if getattr(self, "override_superbias", None):
                raise
            self.log.warning("No SUPERBIAS reference file (%s); group-2 saturation test without bias", error)
            return None
        if path == "N/A":
            self.log.info("No SUPERBIAS reference file applies; group-2 saturation test without bias")
            return None
        ref = open_model(path, lazy=True)  # the bias image only is read
        if not check_shape:
            check_reference_type(self, ref, "superbias")
            return ref.data
        return check_reference_shape(self, "superbias", ref, model).data

    def _irs2(self, model: Any, axis: int, normal: np.ndarray) -> Any:
        """Check the normal pixels of an IRS2 readout against the 2048-wide references."""
        from pipeline_core.datamodels import open_model
        from pipeline_core.references import check_reference_type

        path = self.get_reference_file(model, "saturation")
        if path == "N/A":
            self.log.warning("No SATURATION reference file applies; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        ref = open_model(path)
        check_reference_type(self, ref, "saturation")
        shape = list(model.pixeldq.shape)
        shape[axis] = int(normal.sum())
        if ref.data.shape != tuple(shape):
            raise ReferenceFileError(
                f"step {self.name}: SATURATION reference '{ref.meta.filename or path}' is "
                f"{ref.data.shape}, but the IRS2 readout's image pixels are {tuple(shape)}; give a "
                "full-frame NIRSpec saturation reference"
            )
        thr, dq = prepare_threshold(ref.data, ref.dq)
        frames = self._frames(model)
        bias = None
        if frames is not None and model.data.shape[1] > 2:
            bias = self._bias(model, check_shape=False)
            if bias is not None and bias.shape != tuple(shape):
                bias = np.compress(normal, bias, axis=axis) if bias.shape == model.pixeldq.shape else None
        data = np.compress(normal, model.data, axis=axis)
        gdq = np.compress(normal, model.groupdq, axis=axis)
        zeroframe = None
        if model.meta.exposure.zero_frame and model.zeroframe is not None:
            zeroframe = np.compress(normal, model.zeroframe, axis=axis)
        nsat, nfloor = flag_saturation(
            data, gdq, thr, n_pix_grow_sat=self.n_pix_grow_sat, frames=frames, zeroframe=zeroframe, bias=bias
        )
        index = [slice(None)] * model.groupdq.ndim
        index[axis] = np.nonzero(normal)[0]
        model.groupdq[tuple(index)] = gdq
        if zeroframe is not None:
            model.zeroframe[tuple(index[1:])] = zeroframe
        pindex = [slice(None)] * 2
        pindex[axis] = np.nonzero(normal)[0]
        model.pixeldq[tuple(pindex)] |= dq
        self.log.info("Detected %d saturated pixels", nsat)
        self.log.info("Detected %d A/D floor pixels", nfloor)
        return model


def _irs2_columns(model: Any) -> tuple[int, np.ndarray] | None:
    """For an IRS2 readout, the IRS2 axis and the mask of its normal pixels; else None."""
    from builtin_steps.refpix.irs2_apply import detector_columns
    from builtin_steps.refpix.irs2_layout import irs2_normal_mask, is_irs2_shape
    from builtin_steps.refpix.orientation import orientation

    if not is_irs2_shape(model.data.shape):
        return None
    exp = model.meta.exposure
    kind = orientation(model.meta.instrument.detector)
    axis, columns = detector_columns(model.pixeldq.shape, kind)
    mask = irs2_normal_mask(int(columns.size), int(exp.nrs_normal or 16), int(exp.nrs_reference or 4))
    return axis, mask[columns]
