"""LastFrameStep: flag the last group of MIRI ramps DO_NOT_USE."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import DO_NOT_USE, mark_skipped, open_ramp
from builtin_steps.lastframe.flag import MIN_GROUPS, flag_last_group
from pipeline_core import Step

__all__ = ["LastFrameStep"]


def _is_miri_detector(model: Any) -> bool:
    detector = model.meta.instrument.detector
    return isinstance(detector, str) and detector.upper().startswith("MIR")


class LastFrameStep(Step):
    """Flag the final group of every MIRI integration DO_NOT_USE when there are more than 2 groups."""

    class_alias = "lastframe"
    legacy_class_paths = ("jwst.lastframe.lastframe_step.LastFrameStep",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Flag the last group in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The flagged ramp, or the unchanged ramp (``meta.cal_step.lastframe
            = "SKIPPED"``) for non-MIRI data or 2 groups or fewer.
        """
        model = open_ramp(self, step_input)
        if not _is_miri_detector(model):
            self.log.warning("Last Frame Correction is only for MIRI data; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        ngroups = model.data.shape[1]
        if ngroups <= MIN_GROUPS:
            self.log.warning(
                "Too few groups (%d, need more than %d) to flag the last group; step %s skipped",
                ngroups, MIN_GROUPS, self.name,
            )
            mark_skipped(self, model)
            return model
        flag_last_group(model.groupdq, do_not_use=DO_NOT_USE)
        return model
