"""GroupScaleStep: rescale groups when the on-board frame divisor differs from NFRAMES."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped, open_ramp
from builtin_steps.group_scale.scale import scale_factor, scale_groups
from pipeline_core import Step

__all__ = ["GroupScaleStep"]


class GroupScaleStep(Step):
    """Rescale ramps whose groups were divided by FRMDIVSR instead of NFRAMES.

    Skipped (``meta.cal_step.group_scale = "SKIPPED"``) when NFRAMES is unknown,
    when FRMDIVSR equals NFRAMES, or when FRMDIVSR is missing and NFRAMES is a
    power of two.
    """

    class_alias = "group_scale"
    legacy_class_paths = ("jwst.group_scale.group_scale_step.GroupScaleStep",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Scale the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The scaled (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        nframes = model.meta.exposure.nframes
        divisor = model.meta.exposure.frame_divisor
        factor = scale_factor(nframes, divisor)
        if factor is None:
            self.log.info("NFRAMES=%s, FRMDIVSR=%s: no rescaling needed; step skipped", nframes, divisor)
            mark_skipped(self, model)
            return model
        self.log.info("Rescaling groups by FRMDIVSR/NFRAMES = %s", factor)
        scale_groups(model.data, factor)
        return model
