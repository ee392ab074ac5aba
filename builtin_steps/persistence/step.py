"""PersistenceStep: flag the groups that may carry persistence from earlier bright signal."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import open_ramp
from builtin_steps.persistence.arrayfile import read_window_ends, write_window_ends
from builtin_steps.persistence.windows import flag_persistence, mjd_to_epoch
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import group as GROUP_FLAGS
from pipeline_core.errors import ParameterError, StepError

__all__ = ["PersistenceStep"]


class PersistenceStep(Step):
    """Flag PERSISTENCE on the groups within ``persistence_time`` seconds of a bright signal.

    A pixel's first saturated group in an integration (or, with
    ``dn_threshold``, a group above that signal) opens a window of
    ``persistence_time`` seconds; the groups inside it are flagged PERSISTENCE
    (and DO_NOT_USE with ``persistence_dnu``). Open windows can be read from
    and saved to an ASDF persistence array file, to carry them from one
    exposure to the next. Skipped by default, as in JWST; without a positive
    ``persistence_time`` the step fails (``meta.cal_step.persistence =
    "FAILED"``) and leaves the data unchanged.
    """

    class_alias = "persistence"
    legacy_class_paths = ("jwst.persistence.persistence_step.PersistenceStep",)
    spec = """
        save_persistence = string(default=None) # Name of ASDF output file to save the persistence array
        persistence_time = integer(default=None) # Time, in seconds, to use for persistence window
        dn_threshold = float(default=None) # A threshold above which to flag persistence.
        persistence_array_file = string(default=None) # A path to an ASDF file containing a 2-D array of persistence times per pixel
        persistence_dnu = boolean(default=False) # If True the set the DO_NOT_USE flag with PERSISTENCE
        skip = boolean(default=True) # By default, skip the step.
    """  # noqa: E501

    def process(self, step_input: Any) -> Any:
        """Flag the ramp's group DQ in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp (after the saturation step, which sets SATURATED).

        Returns
        -------
        RampModel
            The flagged ramp; unchanged, with ``meta.cal_step.persistence =
            "FAILED"``, when ``persistence_time`` is not a positive number.
        """
        model = open_ramp(self, step_input)
        if self.persistence_time is None or self.persistence_time <= 0:
            self.log.warning(
                "Step %s failed: persistence_time is %r; give the window length in seconds (> 0). "
                "Data unchanged",
                self.name,
                self.persistence_time,
            )
            model.meta.cal_step.persistence = "FAILED"
            return model
        ny, nx = model.data.shape[-2:]
        detector = model.meta.instrument.detector
        if self.persistence_array_file:
            window_ends = self._read_windows(self._detector_key(detector), (ny, nx))
        else:
            window_ends = np.zeros((ny, nx), dtype=np.float64)
        flag = GROUP_FLAGS["PERSISTENCE"]
        if self.persistence_dnu:
            flag |= GROUP_FLAGS["DO_NOT_USE"]
        invalid = flag_persistence(
            model.groupdq,
            model.data,
            self._group_times(model),
            window_ends,
            persistence_time=float(self.persistence_time),
            dn_threshold=self.dn_threshold,
            saturated=GROUP_FLAGS["SATURATED"],
            flag=flag,
        )
        if invalid:
            self.log.info(
                "Backwards flagging found: %d window(s) read from the persistence array file end later "
                "than persistence_time allows; those windows were closed",
                invalid,
            )
        if self.save_persistence:
            written = write_window_ends(
                self.save_persistence,
                self._detector_key(detector),
                model.meta.filename,
                window_ends,
                self.persistence_time,
            )
            self.log.info("Saved the open persistence windows of %s to %s", detector, written)
        return model

    # ------------------------------------------------------------------ helpers
    def _detector_key(self, detector: str | None) -> str:
        if not detector:
            raise StepError(
                f"step {self.name}: the data have no detector name (DETECTOR keyword), which keys the "
                "persistence array file; set meta.instrument.detector or leave persistence_array_file "
                "and save_persistence unset"
            )
        return str(detector)

    def _read_windows(self, detector: str, shape: tuple[int, int]) -> np.ndarray:
        try:
            return read_window_ends(self.persistence_array_file, detector, shape, self.persistence_time, self.log)
        except ValueError as exc:
            raise ParameterError(
                f"step {self.name}: persistence_array_file={self.persistence_array_file!r}: {exc}; give "
                "a file written by save_persistence"
            ) from exc

    def _group_times(self, model: Any) -> np.ndarray:
        """``(nints, ngroups)`` end time of every group, in seconds since 1970 (UTC).

        Integration ``i`` starts at ``INT_TIMES['int_start_MJD_UTC'][i]`` when
        the table has that row, else at ``EXPSTART + i * EFFINTTM``; group ``g``
        is at the start plus ``(g + 1) * TGROUP``, the group times added one by
        one.
        """
        nints, ngroups = model.data.shape[:2]
        exposure = model.meta.exposure
        group_time = exposure.group_time
        if group_time is None:
            raise StepError(
                f"step {self.name}: the data have no group time (TGROUP, meta.exposure.group_time); "
                "it is needed to time the persistence windows"
            )
        starts = np.full(nints, np.nan)
        table_starts = _int_start_times(model.int_times)
        count = min(nints, table_starts.size)
        starts[:count] = mjd_to_epoch(table_starts[:count])
        if count < nints:
            if exposure.start_time is None:
                raise StepError(
                    f"step {self.name}: the data have no exposure start time (EXPSTART, "
                    "meta.exposure.start_time) nor an INT_TIMES table for every integration; one is "
                    "needed to time the persistence windows"
                )
            if exposure.integration_time is None and nints > 1:
                raise StepError(
                    f"step {self.name}: the data have no integration time (EFFINTTM, "
                    "meta.exposure.integration_time) nor an INT_TIMES table for every integration; "
                    "one is needed to time the persistence windows"
                )
            first = mjd_to_epoch(float(exposure.start_time))
            step = float(exposure.integration_time or 0.0)
            missing = np.arange(count, nints)
            starts[count:] = first + missing * step
        # Added one group time after another, as JWST does (same rounding).
        steps = np.full((nints, ngroups + 1), float(group_time))
        steps[:, 0] = starts
        return np.cumsum(steps, axis=1)[:, 1:]


def _int_start_times(table: Any) -> np.ndarray:
    """The ``int_start_MJD_UTC`` column of an INT_TIMES table (empty when absent)."""
    names = getattr(getattr(table, "dtype", None), "names", None) or ()
    for name in names:
        if name.lower() == "int_start_mjd_utc":
            return np.asarray(table[name], dtype=np.float64)
    return np.zeros(0)
