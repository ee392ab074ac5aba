"""PhotomStep: flux-calibrate an imaging exposure with its ``photom`` and ``area`` references."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import mark_skipped, open_reference_as
from builtin_steps._nanflags import match_nans_and_flags
from builtin_steps.photom.conversion import MJSR_TO_UJA2, column, find_rows, scale_arrays
from pipeline_core import Step
from pipeline_core.datamodels import CubeModel, ImageModel, PhotomModel, PixelAreaModel, open_model
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ReferenceFileError, StepError

__all__ = ["PhotomStep"]

_A2_TO_SR = (np.pi / 180.0 / 3600.0) ** 2


class PhotomStep(Step):
    """Convert an image from DN/s to MJy/sr with the conversion of its filter.

    The row of the ``photom`` table is chosen by FILTER and PUPIL (NIRCam,
    NIRISS; NIRCam tables with a ``subarray`` column also by SUBARRAY) or by
    FILTER and SUBARRAY (MIRI, falling back to ``GENERIC``). The ``area``
    reference gives the pixel area map (the ``AREA`` extension of the product)
    and the nominal pixel area (``PIXAR_SR``, ``PIXAR_A2``); ``PHOTMJSR`` and
    ``PHOTUJA2`` record the conversion.
    """

    class_alias = "photom"
    legacy_class_paths = ("jwst.photom.photom_step.PhotomStep",)
    reference_file_types = ("photom", "area")
    spec = """
        inverse = boolean(default=False)    # Invert the operation
        source_type = string(default=None)  # Process as specified source type
        apply_time_correction = boolean(default=True) # Apply time dependent corrections if available
    """

    def process(self, step_input: Any) -> Any:
        """Apply the photometric conversion.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel or CubeModel
            The flat-fielded exposure.

        Returns
        -------
        ImageModel or CubeModel
            The calibrated exposure (skipped when the photom reference is N/A).

        Raises
        ------
        StepError
            When the table has no row (or several) for the exposure's filter.
        """
        model = open_model(step_input)
        if not isinstance(model, (ImageModel, CubeModel)):
            self.log.warning("Step %s expects an ImageModel or CubeModel, got a %s; step skipped",
                             self.name, type(model).__name__)
            mark_skipped(self, model)
            return model
        photom_path = self.get_reference_file(model, "photom")
        if photom_path == "N/A":
            self.log.warning("No PHOTOM reference file found; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        table_ref = open_reference_as(self, photom_path, "photom", PhotomModel)
        self._area(model, self.get_reference_file(model, "area"), table_ref)
        factor = self._conversion(model, table_ref, photom_path)
        scaled = scale_arrays(
            {name: getattr(model, name) for name in ("data", "err", "var_poisson", "var_rnoise", "var_flat")},
            factor,
            inverse=self.inverse,
        )
        for name, array in scaled.items():
            setattr(model, name, array)
        photometry = model.meta.photometry
        photometry.conversion_megajanskys = factor
        photometry.conversion_microjanskys = factor * MJSR_TO_UJA2
        unit = "DN/s" if self.inverse else "MJy/sr"
        model.meta.bunit_data = unit
        model.meta.bunit_err = unit
        match_nans_and_flags(model, PIXEL["DO_NOT_USE"])
        self.log.info("PHOTMJSR value: %.6g", factor)
        model.meta.cal_step.photom = "COMPLETE"
        return model

    # ------------------------------------------------------------------ parts
    def _area(self, model: Any, area_path: Any, table_ref: Any) -> None:
        from pipeline_core.references.lookup import check_reference_shape

        steradians = arcsec2 = None
        if area_path != "N/A":
            area = check_reference_shape(self, "area", open_reference_as(self, area_path, "area", PixelAreaModel), model)
            if isinstance(model, ImageModel):
                model.area = area.data
                self.log.info("Pixel area map copied to output.")
            steradians = area.meta.photometry.pixelarea_steradians
            arcsec2 = area.meta.photometry.pixelarea_arcsecsq
        if steradians is None or arcsec2 is None:
            steradians = table_ref.meta.photometry.pixelarea_steradians
            arcsec2 = table_ref.meta.photometry.pixelarea_arcsecsq
        if steradians is None and arcsec2 is not None:
            steradians = float(arcsec2) * _A2_TO_SR
        if arcsec2 is None and steradians is not None:
            arcsec2 = float(steradians) / _A2_TO_SR
        model.meta.photometry.pixelarea_steradians = None if steradians is None else float(steradians)
        model.meta.photometry.pixelarea_arcsecsq = None if arcsec2 is None else float(arcsec2)

    def _match(self, model: Any, table: np.ndarray) -> dict[str, str]:
        inst = model.meta.instrument
        instrument = str(inst.name or "").upper()
        subarray = str(model.meta.subarray.name or "").upper()
        if instrument == "MIRI":
            return {"filter": inst.filter or "", "subarray": subarray}
        if instrument == "FGS":
            return {}
        match = {"filter": inst.filter or "", "pupil": inst.pupil or "N/A"}
        if instrument == "NIRCAM" and column(table, "subarray") is not None:
            match["subarray"] = subarray
        return match

    def _conversion(self, model: Any, table_ref: Any, path: str) -> float:
        table = table_ref.phot_table
        name = table_ref.meta.filename or path
        if table is None or not table.dtype.names:
            raise ReferenceFileError(
                f"step '{self.name}': the PHOTOM reference file '{name}' has no PHOTOM table. Give "
                "a JWST imaging photom reference file (override_photom)."
            )
        match = self._match(model, table)
        try:
            rows = find_rows(table, match)
            if len(rows) == 0 and "subarray" in match and str(model.meta.instrument.name).upper() == "MIRI":
                rows = find_rows(table, {**match, "subarray": "GENERIC"})
        except KeyError as missing:
            raise ReferenceFileError(
                f"step '{self.name}': the PHOTOM table of '{name}' has no column {missing}; its "
                f"columns are {list(table.dtype.names)}. Give an imaging photom reference file "
                "(override_photom)."
            ) from None
        if len(rows) != 1:
            wanted = ", ".join(f"{k.upper()}={v!r}" for k, v in match.items())
            keys = [k for k in match]
            have = sorted({" / ".join(str(column(table, k)[i]).strip() for k in keys) for i in range(len(table))})
            problem = "no row" if len(rows) == 0 else f"{len(rows)} rows"
            raise StepError(
                f"step '{self.name}': '{model.meta.filename or '<in memory>'}' has {wanted}, and the "
                f"PHOTOM reference file '{name}' has {problem} for it (its rows, "
                f"{' / '.join(k.upper() for k in keys)}: {', '.join(have)}). Check the exposure's "
                "FILTER/PUPIL keywords, or give a photom reference file with this filter "
                "(override_photom)."
            )
        row = table[rows[0]]
        names = {n.lower(): n for n in table.dtype.names}
        if "photmjsr" in names:
            return float(row[names["photmjsr"]])
        if "photmj" in names:
            value = float(row[names["photmj"]])
            source = (self.source_type or model.meta.target.source_type or "").upper()
            area = model.meta.photometry.pixelarea_steradians
            if source != "POINT" and area:
                return value / float(area)
            return value
        raise ReferenceFileError(
            f"step '{self.name}': the PHOTOM table of '{name}' has neither a 'photmjsr' nor a "
            "'photmj' column. Give an imaging photom reference file (override_photom)."
        )
