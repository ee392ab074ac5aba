"""SourceCatalogStep: the catalog (``cat.ecsv``) and segmentation map (``segm.fits``) of a mosaic.

The columns are :func:`builtin_steps.source_catalog.columns.catalog_columns`,
measured on the image in Jy per pixel. The ``apcorr`` reference gives the
aperture radii of ``aperture_ee1..3``, their corrections and the sky annulus;
the ``abvegaoffset`` reference the Vega magnitudes
(:mod:`builtin_steps.source_catalog.references`). As the JWST step: when CRDS has
no rule for the image, or a reference has no row for its filter, a warning says
so and no catalog is made (the step returns None); when CRDS answers N/A, the
apertures are radii of 1, 2 and 3 pixels without correction, or the AB-Vega
offset is 0, with a warning.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from builtin_steps._common import open_reference_as
from builtin_steps.source_catalog.columns import catalog_columns
from builtin_steps.source_catalog.references import (
    FALLBACK,
    ApertureParams,
    MissingRows,
    aperture_params,
    check_aperture_ee,
)
from builtin_steps.source_catalog.references import abvega_offset as offset_from_table
from pipeline_core import Step
from pipeline_core.datamodels import ABVegaOffsetModel, ApcorrModel, ImageModel, open_model
from pipeline_core.errors import ParameterError, ReferenceFileError, StepError

__all__ = ["SourceCatalogStep"]


class _NoRule(LookupError):
    """CRDS has no reference file of a type for the image."""


class SourceCatalogStep(Step):
    """Detect, deblend and measure the sources of a resampled image.

    Returns an astropy ``Table`` (also saved as ``<product>_cat.ecsv`` with
    the segmentation map ``<product>_segm.fits`` when results are saved).
    """

    class_alias = "source_catalog"
    legacy_class_paths = ("jwst.source_catalog.source_catalog_step.SourceCatalogStep",)
    reference_file_types = ("apcorr", "abvegaoffset")
    spec = """
        aperture_ee1 = integer(default=30)    # aperture encircled energy 1
        aperture_ee2 = integer(default=50)    # aperture encircled energy 2
        aperture_ee3 = integer(default=70)    # aperture encircled energy 3
        ci1_star_threshold = float(default=2.0)  # CI 1 star threshold
        ci2_star_threshold = float(default=1.8)  # CI 2 star threshold
        suffix = string(default='cat')        # Default suffix for output files
        starfinder = option('dao', 'iraf', 'segmentation', default='segmentation') # Star finder to use.
        snr_threshold = float(default=3.0) # SNR threshold above the bkg for star finder
        bkg_boxsize = integer(default=1000) # The background mesh box size in pixels.
        kernel_fwhm = float(default=2.0) # Gaussian kernel FWHM in pixels
        minsep_fwhm = float(default=0.0) # Minimum separation between detected objects in FWHM
        sigma_radius = float(default=1.5) # Truncation radius of the Gaussian kernel, units of sigma
        sharplo = float(default=0.5) # The lower bound on sharpness for object detection.
        sharphi = float(default=2.0) # The upper bound on sharpness for object detection.
        roundlo = float(default=0.0) # The lower bound on roundness for object detection.
        roundhi = float(default=0.2) # The upper bound on roundness for object detection.
        brightest = integer(default=200) # Keep top ``brightest`` objects
        peakmax = float(default=None) # Filter out objects with pixel values >= ``peakmax``
        npixels = integer(default=25) # Minimum number of connected pixels
        connectivity = option(4, 8, default=8) # The connectivity defining the neighborhood of a pixel
        nlevels = integer(default=32) # Number of multi-thresholding levels for deblending
        contrast = float(default=0.001) # Fraction of total source flux an object must have to be deblended
        multithresh_mode = option('exponential', 'linear', 'sinh', default='exponential') # Multi-thresholding mode
        localbkg_width = integer(default=0) # Width of rectangular annulus used to compute local background around each source
        apermask_method = option('correct', 'mask', 'none', default='correct') # How to handle neighboring sources
        kron_params = float_list(min=2, max=3, default=None) # Parameters defining Kron aperture
        deblend = boolean(default=True) # deblend sources?
    """

    def process(self, step_input: Any) -> Any:
        """Make the catalog of a mosaic.

        Parameters
        ----------
        step_input : str, os.PathLike or ImageModel
            A resampled image (``i2d``) in MJy/sr with its WCS.

        Returns
        -------
        astropy.table.Table or None
            One row per source (``meta`` holds the apertures and the AB-Vega
            offset); None when no catalog can be made (no sources, no reference
            rule or no reference row for the image's filter).
        """
        model = open_model(step_input)
        pixel_sr = self._check_input(model)
        ees = (int(self.aperture_ee1), int(self.aperture_ee2), int(self.aperture_ee3))
        problem = check_aperture_ee(ees)
        if problem:
            raise ParameterError(
                f"step '{self.name}': aperture_ee1..3 = {list(ees)} are not accepted: {problem}. Give three "
                "increasing encircled-energy percentages found in the APCORR reference (e.g. 30, 50, 70)."
            )
        try:
            apertures = self._apertures(model, ees)
            offset = self._abvega_offset(model)
        except (MissingRows, _NoRule) as error:
            self.log.warning("%s Source catalog will not be created.", error)
            return None
        to_jy = 1.0e6 * pixel_sr
        data = np.asarray(model.data, np.float64) * to_jy
        err = np.asarray(model.err, np.float64) * to_jy
        coverage = ~np.isfinite(err) | ~np.isfinite(data)
        if model.wht is not None and model.wht.shape == data.shape:
            coverage |= np.asarray(model.wht) == 0
        columns, segm = catalog_columns(data, err, coverage, apertures, offset,
                                        (self.ci1_star_threshold, self.ci2_star_threshold), self)
        if segm is None:
            self.log.warning("No sources found in the image. Catalog will be empty.")
            return None
        table = self._table(model, columns)
        table.meta.update({"product": str(model.meta.filename or "image3_i2d.fits"),
                           "aperture_params": apertures.as_meta(), "abvega_offset": offset})
        self.log.info("Detected %d sources", len(table))
        model.meta.cal_step.source_catalog = "COMPLETE"
        object.__setattr__(self, "_products", (segm, model))
        return table

    def _save_result(self, result: Any) -> None:
        """Write the catalog and segmentation map (instead of saving a data model)."""
        products = getattr(self, "_products", None)
        if result is not None and products is not None and self.saves_results():
            self._save(result, *products)

    # ------------------------------------------------------------------ parts
    def _check_input(self, model: Any) -> float:
        name = model.meta.filename
        if not isinstance(model, ImageModel) or model.meta.wcs is None:
            raise StepError(
                f"step '{self.name}': input '{name}' is a {type(model).__name__} without a WCS; "
                "source_catalog takes a resampled image (i2d) from resample."
            )
        units = (model.meta.bunit_data, model.meta.bunit_err)
        if units != ("MJy/sr", "MJy/sr"):
            raise StepError(
                f"step '{self.name}': input '{name}' has data and error in {units[0]!r} and {units[1]!r}; "
                "source_catalog takes surface brightness in 'MJy/sr' (run photom before resample)."
            )
        if model.err is None or model.err.shape != model.data.shape:
            raise StepError(f"step '{self.name}': input '{name}' has no error array (err) of its data's shape.")
        pixel_sr = model.meta.photometry.pixelarea_steradians
        if not pixel_sr:
            raise StepError(
                f"step '{self.name}': input '{name}' has no pixel area "
                "(meta.photometry.pixelarea_steradians); run photom and resample before source_catalog."
            )
        return float(pixel_sr)

    def _reference(self, model: Any, reftype: str, cls: type) -> Any:
        """The opened reference, or None for N/A; :class:`_NoRule` when CRDS has no file."""
        try:
            path = self.get_reference_file(model, reftype)
        except ReferenceFileError as error:
            if getattr(self, f"override_{reftype}", None):
                raise
            raise _NoRule(str(error)) from error
        if isinstance(path, str) and path.upper() == "N/A":
            return None
        return open_reference_as(self, path, reftype, cls)

    def _selectors(self, model: Any) -> dict[str, Any]:
        inst = model.meta.instrument
        return {"filter": inst.filter, "pupil": inst.pupil, "detector": inst.detector,
                "subarray": model.meta.subarray.name}

    def _apertures(self, model: Any, ees: tuple[int, ...]) -> ApertureParams:
        ref = self._reference(model, "apcorr", ApcorrModel)
        if ref is None:
            self.log.warning("No APCORR reference file (N/A): apertures of radius 1, 2 and 3 pixels "
                             "without aperture corrections.")
            return FALLBACK
        ratio = model.meta.resample.pixel_scale_ratio
        if ratio is None:
            self.log.warning("meta.resample.pixel_scale_ratio is not set: the native pixel scale is assumed "
                             "(pixel_scale_ratio = 1).")
            ratio = 1.0
        try:
            params = aperture_params(ref.apcorr_table, str(model.meta.instrument.name), self._selectors(model),
                                     ees, float(ratio))
        except MissingRows as error:
            raise MissingRows(f"APCORR reference '{ref.meta.filename}': {error}.") from None
        self.log.info("Apertures (pixels) %s for %s %% encircled energy; aperture correction %.4f",
                      ", ".join(f"{r:.3f}" for r in params.radii), "/".join(map(str, ees)), params.corrections[-1])
        return params

    def _abvega_offset(self, model: Any) -> float:
        ref = self._reference(model, "abvegaoffset", ABVegaOffsetModel)
        if ref is None:
            self.log.warning("No ABVEGAOFFSET reference file (N/A): the AB-Vega offset is 0, so the "
                             "catalog's Vega magnitudes are not correct.")
            return 0.0
        if ref.abvega_offset is None:
            raise ReferenceFileError(f"step '{self.name}': the ABVEGAOFFSET reference "
                                     f"'{ref.meta.filename}' has no 'abvega_offset' table.")
        try:
            offset = offset_from_table(ref.abvega_offset, str(model.meta.instrument.name), self._selectors(model))
        except MissingRows as error:
            raise MissingRows(f"ABVEGAOFFSET reference '{ref.meta.filename}': {error}.") from None
        self.log.info("AB to Vega magnitude offset %.5f", offset)
        return offset

    def _table(self, model: Any, columns: dict[str, np.ndarray]) -> Any:
        from astropy.table import Table

        table = Table()
        for name, values in columns.items():
            table[name] = values
            if name == "ycentroid":
                table["sky_centroid"] = model.meta.wcs.pixel_to_world(columns["xcentroid"], values)
            if name.endswith(("_flux", "_flux_err")):
                table[name].unit = "Jy"
        return table

    def _save(self, table: Any, segm: np.ndarray, model: Any) -> None:
        from astropy.io import fits

        from builtin_steps.association import product_name_from

        folder = self.output_dir or os.getcwd()
        stem = product_name_from(str(model.meta.filename or "image3")).removesuffix("_i2d")
        cat_path = os.path.join(folder, f"{stem}_cat.ecsv")
        segm_path = os.path.join(folder, f"{stem}_segm.fits")
        tmp = cat_path + ".part"
        table.write(tmp, format="ascii.ecsv", overwrite=True)
        os.replace(tmp, cat_path)
        tmp = segm_path + ".part"
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(segm, name="SCI")]).writeto(tmp, overwrite=True)
        os.replace(tmp, segm_path)
        self.log.info("Saved %s and %s", cat_path, segm_path)
