"""FirstFrameStep: flag the first group of MIRI ramps DO_NOT_USE."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import DO_NOT_USE, SATURATED, mark_skipped, open_ramp
from builtin_steps.firstframe.flag import MIN_GROUPS, flag_first_group
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import pixel as _PIXEL

__all__ = ["FirstFrameStep"]

_DEPRECATION = (
    "'FirstFrameStep' is deprecated (as in JWST since 2.0.0) and will be removed in a future "
    "release; the RSCD step now flags the first group."
)


def _is_miri_detector(model: Any) -> bool:
    detector = model.meta.instrument.detector
    return isinstance(detector, str) and detector.upper().startswith("MIR")


class FirstFrameStep(Step):
    """Flag group 1 of every MIRI integration DO_NOT_USE when there are more than 3 groups.

    Skipped by default (``skip = True``), as in JWST, where the RSCD step now
    flags the first group.
    """

    class_alias = "firstframe"
    legacy_class_paths = ("jwst.firstframe.firstframe_step.FirstFrameStep",)
    spec = """
        bright_use_group1 = boolean(default=True) # do not flag group1 if group3 is saturated
        skip = boolean(default=True) # Do not run this step.
    """

    def process(self, step_input: Any) -> Any:
        """Flag the first group in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The flagged ramp, or the unchanged ramp (``meta.cal_step.firstframe
            = "SKIPPED"``) for non-MIRI data or 3 groups or fewer.
        """
        self.log.warning(_DEPRECATION)
        model = open_ramp(self, step_input)
        if not _is_miri_detector(model):
            self.log.warning("First Frame Correction is only for MIRI data; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        ngroups = model.data.shape[1]
        if ngroups <= MIN_GROUPS:
            self.log.warning(
                "Too few groups (%d, need more than %d) to flag the first group; step %s skipped",
                ngroups, MIN_GROUPS, self.name,
            )
            mark_skipped(self, model)
            return model
        kept = flag_first_group(
            model.groupdq,
            model.pixeldq,
            bright_use_group1=self.bright_use_group1,
            do_not_use=DO_NOT_USE,
            saturated=SATURATED,
            flux_estimated=_PIXEL["FLUX_ESTIMATED"],
        )
        if self.bright_use_group1:
            self.log.info("Number of usable bright pixels with first group not set to DO_NOT_USE: %d", kept)
        return model
