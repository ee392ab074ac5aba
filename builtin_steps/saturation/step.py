"""SaturationStep: flag saturated groups and groups below the A/D floor."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import load_reference, open_ramp
from builtin_steps.saturation.flag import flag_saturation, prepare_threshold, read_pattern
from pipeline_core import Step

__all__ = ["SaturationStep"]


class SaturationStep(Step):
    """Flag SATURATED groups from the SATURATION reference thresholds.

    A group at or above the threshold is flagged with every later group, and
    the flag grows to ``n_pix_grow_sat`` layers of neighbours. Groups at or
    below 0 DN are flagged AD_FLOOR and DO_NOT_USE. Pixels whose threshold is
    NaN or flagged NO_SAT_CHECK are not checked. With ``use_readpatt``,
    frame-averaged groups that saturated part-way are also flagged DO_NOT_USE.
    """

    class_alias = "saturation"
    legacy_class_paths = ("jwst.saturation.saturation_step.SaturationStep",)
    reference_file_types = ("saturation",)
    spec = """
        n_pix_grow_sat = integer(default=1, min=0) # number of layers of adjacent pixels to flag
        use_readpatt = boolean(default=True) # use the readout pattern to find groups saturated part-way
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
        ref = load_reference(self, model, "saturation")
        if ref is None:
            return model
        # the reference model was opened by this step: update its arrays in place
        thr, dq = prepare_threshold(ref.data, ref.dq, copy=False)
        exp = model.meta.exposure
        frames = None
        if self.use_readpatt and exp.nframes:
            frames = read_pattern(model.data.shape[1], int(exp.nframes), int(exp.groupgap or 0))
        zeroframe = model.zeroframe if exp.zero_frame else None
        nsat, nfloor = flag_saturation(
            model.data, model.groupdq, thr, n_pix_grow_sat=self.n_pix_grow_sat, frames=frames, zeroframe=zeroframe
        )
        model.pixeldq |= dq
        self.log.info("Detected %d saturated pixels", nsat)
        self.log.info("Detected %d A/D floor pixels", nfloor)
        return model
