"""LinearityStep: correct the non-linear response of each unsaturated group."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import load_reference, open_ramp
from builtin_steps.linearity.correct import apply_linearity, prepare_coefficients
from pipeline_core import Step

__all__ = ["LinearityStep"]


class LinearityStep(Step):
    """Apply the linearity polynomial of the LINEARITY reference.

    Saturated groups are not changed; pixels without usable coefficients are
    left unchanged and flagged NO_LIN_CORR.
    """

    class_alias = "linearity"
    legacy_class_paths = ("jwst.linearity.linearity_step.LinearityStep",)
    reference_file_types = ("linearity",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Correct the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The corrected (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        ref = load_reference(self, model, "linearity")
        if ref is None:
            return model
        # the reference model was opened by this step: update its arrays in place
        coeffs, dq = prepare_coefficients(ref.coeffs, ref.dq, copy=False)
        model.pixeldq |= dq
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame else None
        apply_linearity(model.data, model.groupdq, coeffs, zeroframe=zeroframe)
        return model
