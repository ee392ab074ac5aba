"""The ``ramp_dq_summary`` step: jump and saturation statistics of each integration.

Run it on a ramp after the ``jump`` step (and before ``ramp_fit``, which turns the
ramp into rate images and drops the group flags). It leaves the data untouched and
records its findings in ``model.meta.dq_summary``; optionally it also writes them
as an ECSV table next to the step's products.
"""

from __future__ import annotations

import os
from typing import Any

from pipeline_core import Step
from pipeline_core.datamodels import dqflags
from pipeline_core.errors import StepError
from pipeline_core.output import atomic_write

from steppe_example.stats import COLUMNS, summarize_groupdq

__all__ = ["RampDQSummaryStep"]


class RampDQSummaryStep(Step):
    """Summarize jumps and saturation per integration from a ramp's GROUPDQ.

    Parameters
    ----------
    warn_jump_fraction : float
        Log a warning for an integration in which a larger fraction of pixels has
        a jump (a cosmic-ray shower, or a jump threshold set too low).
    save_table : bool
        Also write the per-integration table as ``<input>_dqsummary.ecsv``.

    Notes
    -----
    The result is the input model with ``meta.dq_summary`` set to a mapping of
    the statistic names of :data:`steppe_example.stats.COLUMNS` to lists with one
    value per integration, plus ``total_jumps`` and ``max_jump_fraction``.
    """

    class_alias = "ramp_dq_summary"
    spec = """
    warn_jump_fraction = float(default=0.25, min=0, max=1)  # warn when more pixels than this fraction have a jump in one integration
    save_table = boolean(default=False)  # also write the table as <input>_dqsummary.ecsv
    """

    def process(self, input: Any) -> Any:
        """Compute the statistics and record them in ``meta.dq_summary``.

        Parameters
        ----------
        input : RampModel
            A ramp with ``groupdq`` (after ``saturation`` and ``jump``).

        Returns
        -------
        RampModel
            The same model, data unchanged, with ``meta.dq_summary`` filled in.

        Raises
        ------
        StepError
            If the input has no group DQ array (e.g. a rate image).
        """
        model = input
        groupdq = getattr(model, "groupdq", None)
        if groupdq is None or getattr(groupdq, "ndim", 0) != 4:
            raise StepError(
                f"step '{self.name}': input {type(model).__name__} has no 4-D groupdq array; "
                "ramp_dq_summary needs a ramp (RampModel): run it after 'jump' and before "
                "'ramp_fit'"
            )
        flags = dqflags.group
        stats = summarize_groupdq(
            groupdq,
            jump_flag=flags["JUMP_DET"],
            saturated_flag=flags["SATURATED"],
            do_not_use_flag=flags["DO_NOT_USE"],
            group_time=model.meta.exposure.group_time,
        )
        summary = {name: stats[name].tolist() for name in COLUMNS}
        summary["total_jumps"] = int(stats["jumps"].sum())
        summary["max_jump_fraction"] = float(stats["jump_fraction"].max(initial=0.0))
        model.meta.dq_summary = summary
        for row in zip(*(stats[name] for name in COLUMNS)):
            values = dict(zip(COLUMNS, row))
            self.log.info(
                "integration %d: %d jumps in %d pixels (%.2f%%), %d saturated pixels (%.2f%%), "
                "median usable groups %.1f",
                values["integration"], values["jumps"], values["jump_pixels"],
                100 * values["jump_fraction"], values["saturated_pixels"],
                100 * values["saturated_fraction"], values["median_usable_groups"],
            )
            if values["jump_fraction"] > self.warn_jump_fraction:
                self.log.warning(
                    "integration %d: %.1f%% of the pixels have a jump, more than "
                    "warn_jump_fraction=%g; check for a cosmic-ray shower or a low jump threshold",
                    values["integration"], 100 * values["jump_fraction"], self.warn_jump_fraction,
                )
        if self.save_table:
            self._write_table(model, stats)
        return model

    def _write_table(self, model: Any, stats: dict) -> str:
        from astropy.table import Table

        path = os.path.splitext(self.output_path(model, suffix="dqsummary"))[0] + ".ecsv"
        table = Table({name: stats[name] for name in COLUMNS})
        table.meta["source"] = model.meta.filename
        with atomic_write(path) as tmp:
            table.write(tmp, format="ascii.ecsv", overwrite=True)
        self.log.info("Step %s wrote %s", self.name, path)
        return path
