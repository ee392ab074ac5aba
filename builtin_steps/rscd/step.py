"""RscdStep: flag the initial groups of MIRI integrations affected by RSCD."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import DO_NOT_USE, SATURATED, mark_skipped, open_ramp
from builtin_steps.rscd.flag import MIN_GROUPS, flag_initial_groups, limit_group_skip, skip_counts
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import pixel as _PIXEL
from pipeline_core.datamodels.meta import to_plain
from pipeline_core.errors import ReferenceFileError

__all__ = ["RscdStep", "lookup_group_skip"]


def _is_miri_detector(model: Any) -> bool:
    detector = model.meta.instrument.detector
    return isinstance(detector, str) and detector.upper().startswith("MIR")


def lookup_group_skip(table: np.ndarray, subarray: str, readpatt: str) -> tuple[int, int] | None:
    """Find the groups to flag for a subarray and read pattern in an RSCD table.

    Parameters
    ----------
    table : numpy.ndarray
        Structured array with columns ``subarray``, ``readpatt``, ``group_skip``
        and (in current files) ``group_skip1``.
    subarray, readpatt : str
        The data's ``SUBARRAY`` (``SUBPRISM`` is read as ``SLITLESSPRISM``) and
        ``READPATT``.

    Returns
    -------
    (int, int) or None
        Groups to flag in the first integration (-1 when the table has no
        ``group_skip1`` column) and in later ones, from the first matching row;
        None when no row matches.
    """
    if subarray.upper() == "SUBPRISM":
        subarray = "SLITLESSPRISM"
    names = table.dtype.names or ()
    for row in table:
        if str(row["subarray"]).strip() == subarray and str(row["readpatt"]).strip() == readpatt:
            first = int(row["group_skip1"]) if "group_skip1" in names else -1
            return first, int(row["group_skip"])
    return None


class RscdStep(Step):
    """Flag the first N groups of MIRI integrations DO_NOT_USE, N from the RSCD reference.

    The first integration and the later ones have their own N; both are
    lowered for short ramps and, pixel by pixel, for pixels that saturate
    early (those also get FLUX_ESTIMATED in PIXELDQ).
    """

    class_alias = "rscd"
    legacy_class_paths = ("jwst.rscd.rscd_step.RscdStep",)
    reference_file_types = ("rscd",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Flag the RSCD-affected groups in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The flagged ramp, or the unchanged ramp (``meta.cal_step.rscd =
            "SKIPPED"``) for non-MIRI data, an N/A reference, a read pattern and
            subarray the reference does not list, or fewer than 3 groups.
        """
        model = open_ramp(self, step_input)
        if not _is_miri_detector(model):
            self.log.warning("RSCD correction is only for MIRI data; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        found = self._group_skip(model)
        if found is None:
            mark_skipped(self, model)
            return model
        skip_int1, skip_int2p = found
        if skip_int1 < 0:
            self.log.warning(
                "The RSCD reference file has no group_skip1 column (an old file); flagging 1 "
                "group in the first integration"
            )
            skip_int1 = 1
        self.log.info("Groups to flag from the RSCD reference: %d (int 1), %d (int 2+)", skip_int1, skip_int2p)
        ngroups = model.data.shape[1]
        if ngroups < MIN_GROUPS:
            self.log.warning(
                "Too few groups (%d, need %d) to apply the RSCD correction; step %s skipped",
                ngroups, MIN_GROUPS, self.name,
            )
            mark_skipped(self, model)
            return model
        self._flag(model, limit_group_skip(skip_int1, ngroups), limit_group_skip(skip_int2p, ngroups))
        return model

    def _group_skip(self, model: Any) -> tuple[int, int] | None:
        """Open the RSCD reference and look up this exposure's row (None: skip)."""
        from pipeline_core.datamodels import RSCDModel, open_model
        from pipeline_core.references import check_reference_type

        path = self.get_reference_file(model, "rscd")
        if path == "N/A":
            self.log.warning("No RSCD reference file applies; step %s skipped", self.name)
            return None
        ref = open_model(path, model_class=RSCDModel if isinstance(path, str) else None)
        check_reference_type(self, ref, "rscd")
        name = ref.meta.filename or "<in memory>"
        table = getattr(ref, "rscd_group_skip_table", None)
        if table is None or not {"subarray", "readpatt", "group_skip"} <= set(table.dtype.names or ()):
            raise ReferenceFileError(
                f"step {self.name}: the RSCD reference file '{name}' has no RSCD_GROUP_SKIP table "
                "with columns subarray, readpatt, group_skip (and group_skip1); give a complete "
                "RSCD reference file (override_rscd)."
            )
        subarray = str(model.meta.subarray.name or "")
        readpatt = str(model.meta.exposure.readpatt or "")
        found = lookup_group_skip(table, subarray, readpatt)
        if found is None:
            self.log.warning(
                "READPATT=%s, SUBARRAY=%s combination not found in the RSCD reference file '%s'; "
                "step %s skipped", readpatt, subarray, name, self.name,
            )
        return found

    def _flag(self, model: Any, skip_int1: int, skip_int2p: int) -> None:
        """Flag integration 1 (if in these data) and integrations 2 and later."""
        exposure = model.meta.exposure
        nints_data = model.data.shape[0]
        nints = int(exposure.nints) if exposure.nints is not None else nints_data
        start = exposure.integration_start
        starts_exposure = start is None or int(start) == 1
        report: dict[str, int] = {}
        if starts_exposure:
            lowered, only_one = self._flag_block(model, slice(0, 1), skip_int1)
            report.update(
                keep_bright_firstgroup_int1=only_one,
                keep_groups_saturation_int1=lowered,
                ngroups_skip_int1=skip_int1,
            )
        if nints > 1:
            lowered, only_one = self._flag_block(
                model, slice(1 if starts_exposure else 0, nints_data), skip_int2p
            )
            report.update(
                keep_bright_firstgroup_int2p=only_one,
                keep_groups_saturation_int2p=lowered,
                ngroups_skip_int2p=skip_int2p,
            )
        current = model.meta.rscd
        model.meta.rscd = {**(to_plain(current) if current is not None else {}), **report}

    def _flag_block(self, model: Any, ints: slice, skip: int) -> tuple[int, int]:
        """Flag the integrations ``ints``; return (pixels lowered, pixels left unflagged)."""
        block = model.groupdq[ints]
        counts, lowered, only_one = skip_counts(block, skip, saturated=SATURATED)
        if lowered.any():
            model.pixeldq[lowered] |= model.pixeldq.dtype.type(_PIXEL["FLUX_ESTIMATED"])
            self.log.info(
                "Flagged %d pixel(s) FLUX_ESTIMATED: fewer RSCD groups flagged because they saturate",
                int(lowered.sum()),
            )
        flag_initial_groups(block, counts, do_not_use=DO_NOT_USE)
        return int(lowered.sum()), only_one
