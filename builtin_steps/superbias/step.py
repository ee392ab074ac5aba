"""SuperBiasStep: subtract the superbias reference from the ramp."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import load_reference, open_ramp
from builtin_steps.superbias.subtract import subtract_superbias
from pipeline_core import Step

__all__ = ["SuperBiasStep"]


class SuperBiasStep(Step):
    """Subtract the superbias image from every group; OR its DQ into PIXELDQ."""

    class_alias = "superbias"
    legacy_class_paths = ("jwst.superbias.superbias_step.SuperBiasStep",)
    reference_file_types = ("superbias",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Subtract the bias in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The bias-subtracted (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        ref = load_reference(self, model, "superbias")
        if ref is None:
            return model
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame else None
        subtract_superbias(model.data, model.pixeldq, ref.data, ref.dq, zeroframe=zeroframe)
        return model
