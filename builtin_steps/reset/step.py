"""ResetStep: subtract the MIRI reset anomaly reference from the ramp."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import load_reference, mark_skipped, open_ramp
from builtin_steps.reset.subtract import subtract_reset
from pipeline_core import Step

__all__ = ["ResetStep"]


def _is_miri_detector(model: Any) -> bool:
    detector = model.meta.instrument.detector
    return isinstance(detector, str) and detector.upper().startswith("MIR")


class ResetStep(Step):
    """Subtract the RESET reference (reset anomaly per integration and group) from MIRI ramps."""

    class_alias = "reset"
    legacy_class_paths = ("jwst.reset.reset_step.ResetStep",)
    reference_file_types = ("reset",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Subtract the reset anomaly in place; OR the reference DQ into PIXELDQ.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The corrected ramp, or the unchanged ramp (``meta.cal_step.reset =
            "SKIPPED"``) for non-MIRI data or when no RESET reference applies.
        """
        model = open_ramp(self, step_input)
        if not _is_miri_detector(model):
            self.log.warning("Reset Correction is only for MIRI data; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        ref = load_reference(self, model, "reset")
        if ref is None:
            return model
        exposure = model.meta.exposure
        ref_exposure = ref.meta.exposure
        nints_data = model.data.shape[0]
        start = exposure.integration_start
        first = int(start) - 1 if start is not None else 0
        ngroups = exposure.ngroups if exposure.ngroups is not None else model.data.shape[1]
        ref_ngroups = ref_exposure.ngroups if ref_exposure.ngroups is not None else ref.data.shape[1]
        ref_nints = ref_exposure.nints if ref_exposure.nints is not None else ref.data.shape[0]
        self.log.debug(
            "Reset correction of %d integration(s) from integration %d, %d group(s)",
            nints_data, first + 1, min(ngroups, ref_ngroups),
        )
        subtract_reset(
            model.data, ref.data, ngroups=min(int(ngroups), int(ref_ngroups)), nints=int(ref_nints),
            first_integration=first,
        )
        np.bitwise_or(model.pixeldq, ref.dq.astype(model.pixeldq.dtype, copy=False), out=model.pixeldq)
        return model
