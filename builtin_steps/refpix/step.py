"""RefPixStep: remove bias drifts using the detector's reference pixels."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped, open_ramp, science_window
from builtin_steps.refpix.correct import RefpixOptions, correct_nir
from pipeline_core import Step
from pipeline_core.config.omissions import OmittedParameter

__all__ = ["RefPixStep"]


class RefPixStep(Step):
    """Subtract the reference-pixel signal from near-infrared ramps.

    Full frames and subarrays read through four outputs: per-amplifier
    (even/odd column) top/bottom reference means, then the running median of
    the side reference pixels. Subarrays read through one output: the means of
    the reference pixels the subarray contains (PIXELDQ REFERENCE_PIXEL), even
    and odd detector columns apart; without any, the step is skipped. MIRI
    data and NIRSpec IRS2 readouts are not corrected by this implementation
    (step skipped with a warning).
    """

    class_alias = "refpix"
    legacy_class_paths = ("jwst.refpix.refpix_step.RefPixStep",)
    reference_file_types = ("refpix",)
    #: JWST refpix parameters for corrections this step does not provide.
    omitted_parameters = {
        "ovr_corr_mitigation_ftr": "applies to NIRSpec IRS2 readouts only, which this step does not correct",
        "preserve_irs2_refpix": "applies to NIRSpec IRS2 readouts only, which this step does not correct",
        "irs2_mean_subtraction": "applies to NIRSpec IRS2 readouts only, which this step does not correct",
        "refpix_algorithm": OmittedParameter(
            "only the 'median' side-pixel algorithm is provided", accepted=("median",)
        ),
        "sigreject": "used by the 'sirs' side-pixel algorithm only",
        "gaussmooth": "used by the 'sirs' side-pixel algorithm only",
        "halfwidth": "used by the 'sirs' side-pixel algorithm only",
    }
    spec = """
        odd_even_columns = boolean(default=True) # compute the reference signal separately for even/odd columns
        use_side_ref_pixels = boolean(default=True) # use the side reference pixels for a per-row signal
        side_smoothing_length = integer(default=11, min=1) # running-median window height for the side signal
        side_gain = float(default=1.0) # factor applied to the side signal before subtraction
        odd_even_rows = boolean(default=True) # MIRI only: separate even/odd rows
    """

    def process(self, step_input: Any) -> Any:
        """Correct the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp (after dq_init, which flags the reference pixels).

        Returns
        -------
        RampModel
            The corrected (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        if (model.meta.instrument.name or "").upper() == "MIRI":
            self.log.warning("Reference-pixel correction of MIRI data is not available; step skipped")
            mark_skipped(self, model)
            return model
        if (model.meta.exposure.readpatt or "").upper().startswith("NRSIRS2"):
            self.log.warning("Reference-pixel correction of IRS2 readouts is not available; step skipped")
            mark_skipped(self, model)
            return model
        options = RefpixOptions(
            odd_even_columns=self.odd_even_columns,
            use_side_ref_pixels=self.use_side_ref_pixels,
            side_smoothing_length=self.side_smoothing_length,
            side_gain=self.side_gain,
        )
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame else None
        status = correct_nir(
            model.data,
            model.pixeldq,
            detector=model.meta.instrument.detector,
            window=science_window(model),
            noutputs=model.meta.exposure.noutputs,
            options=options,
            zeroframe=zeroframe,
        )
        if status == "does_not_fit":
            self.log.warning("Subarray %s does not fit on the detector; step skipped", science_window(model))
            mark_skipped(self, model)
        elif status == "no_reference_pixels":
            self.log.warning("No usable reference pixels in the data; step skipped")
            mark_skipped(self, model)
        return model
