"""AssignMTWcsStep: jwst's moving-target WCS step; fixed targets (all steppe handles) pass unchanged."""

from __future__ import annotations

from typing import Any

from builtin_steps.library import as_library
from pipeline_core import Step

__all__ = ["AssignMTWcsStep"]


class AssignMTWcsStep(Step):
    """Mark the exposures ``SKIPPED``: moving-target WCSs are not supported (a warning says so when asked)."""

    class_alias = "assign_mtwcs"
    legacy_class_paths = ("jwst.assign_mtwcs.assign_mtwcs_step.AssignMTWcsStep",)
    default_suffix = "assign_mtwcs"
    spec = """
    """

    def process(self, step_input: Any) -> Any:
        """Pass the exposures through.

        Parameters
        ----------
        step_input : ModelLibrary, association file or list of images
            The exposures.

        Returns
        -------
        ModelLibrary
        """
        library = as_library(step_input)
        for _, model in library.models():
            if str(model.meta.target.type or "").upper() == "MOVING":
                self.log.warning("%s is a moving target: steppe has no moving-target WCS; left as it is",
                                 model.meta.filename)
            model.meta.cal_step.assign_mtwcs = "SKIPPED"
        return library
