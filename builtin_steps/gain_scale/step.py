"""GainScaleStep: rescale rates taken with a non-standard gain setting."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import load_reference, mark_skipped
from builtin_steps.gain_scale.scale import apply_gain_factor
from pipeline_core import Step
from pipeline_core.datamodels import open_model

__all__ = ["GainScaleStep"]


class GainScaleStep(Step):
    """Multiply a rate product by the gain factor (GAINFACT) of the gain reference.

    Skipped when the gain reference records no gain factor, which is the case
    for the standard gain setting.
    """

    class_alias = "gain_scale"
    legacy_class_paths = ("jwst.gain_scale.gain_scale_step.GainScaleStep",)
    reference_file_types = ("gain",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Scale the rates in place.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel or CubeModel
            Rate product.

        Returns
        -------
        ImageModel or CubeModel
            The scaled (or unchanged, skipped) product.
        """
        model = open_model(step_input)
        ref = load_reference(self, model, "gain")
        if ref is None:
            return model
        factor = ref.meta.exposure.gain_factor
        if factor is None:
            self.log.info("GAINFACT not found in the gain reference file; step skipped")
            mark_skipped(self, model)
            return model
        self.log.info("Scaling rates by gain factor %s", factor)
        apply_gain_factor(
            float(factor), model.data, model.err, getattr(model, "var_poisson", None), getattr(model, "var_rnoise", None)
        )
        model.meta.exposure.gain_factor = float(factor)
        return model
