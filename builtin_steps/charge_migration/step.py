"""ChargeMigrationStep: flag groups affected by charge migration (brighter-fatter) in bright pixels."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped, open_ramp
from builtin_steps.charge_migration.flag import flag_charge_migration
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import group as GROUP_FLAGS

__all__ = ["ChargeMigrationStep"]


class ChargeMigrationStep(Step):
    """Set CHARGELOSS and DO_NOT_USE on groups after the signal exceeds a threshold.

    From the first group whose signal is above ``signal_threshold`` on, that
    group and all later groups of the integration are flagged in the pixel and
    its four nearest neighbours. Integrations of fewer than 3 groups are not
    processed (step skipped). Skipped by default, as in JWST.
    """

    class_alias = "charge_migration"
    legacy_class_paths = ("jwst.charge_migration.charge_migration_step.ChargeMigrationStep",)
    spec = """
        signal_threshold = float(default=25000) # signal (DN) above which a group and the later ones are flagged
        skip = boolean(default=True) # skipped unless asked for
    """

    def process(self, step_input: Any) -> Any:
        """Flag the ramp's group DQ in place.

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
        ngroups = model.data.shape[1]
        if ngroups < 3:
            self.log.info(
                "Too few groups per integration (%d, fewer than 3); step %s skipped", ngroups, self.name
            )
            mark_skipped(self, model)
            return model
        self.log.info("Using signal_threshold: %.2f", self.signal_threshold)
        changed = flag_charge_migration(
            model.data,
            model.groupdq,
            self.signal_threshold,
            do_not_use=GROUP_FLAGS["DO_NOT_USE"],
            chargeloss=GROUP_FLAGS["CHARGELOSS"],
        )
        self.log.info("Flagged %d group(s) as CHARGELOSS and DO_NOT_USE", changed)
        return model
