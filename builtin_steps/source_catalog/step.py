"""SourceCatalogStep: the catalog (``cat.ecsv``) and segmentation map (``segm.fits``) of a mosaic.

The photometry is :func:`builtin_steps.source_catalog.photometry.measure`. The
apertures come from the ``apcorr`` reference (rows of the image's filter and
pupil: ``eefraction``, ``radius``, ``apcorr``, ``skyin``, ``skyout``); without
one they are those of a Gaussian star of FWHM ``kernel_fwhm`` (a warning says
so). The ``abvegaoffset`` reference gives the Vega magnitudes (without it they
are NaN).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from builtin_steps.source_catalog.photometry import ApertureSet, ab_mag, gaussian_apertures, measure
from pipeline_core import Step
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ReferenceFileError, StepError

__all__ = ["SourceCatalogStep"]


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
        astropy.table.Table
            One row per source; ``meta`` holds the product name and apertures.
        """
        from astropy.table import Table

        model = open_model(step_input)
        if not isinstance(model, ImageModel) or model.meta.wcs is None:
            raise StepError(
                f"step '{self.name}': input '{model.meta.filename}' is a {type(model).__name__} "
                "without a WCS; source_catalog takes a resampled image (i2d) from resample."
            )
        pixel_sr = model.meta.photometry.pixelarea_steradians
        if not pixel_sr:
            raise StepError(
                f"step '{self.name}': input '{model.meta.filename}' has no pixel area "
                "(meta.photometry.pixelarea_steradians); run photom and resample before source_catalog."
            )
        ees = (self.aperture_ee1, self.aperture_ee2, self.aperture_ee3)
        apertures = self._apertures(model, ees)
        data = np.asarray(model.data, np.float64)
        err = np.asarray(model.err, np.float64) if model.err is not None and model.err.shape == data.shape \
            else np.zeros_like(data)
        mask = ~np.isfinite(data)
        if model.wht is not None and model.wht.shape == data.shape:
            mask |= np.asarray(model.wht) <= 0
        mask |= (np.asarray(model.dq) & np.uint32(PIXEL["DO_NOT_USE"])) != 0 if model.dq is not None \
            and model.dq.shape == data.shape else False
        columns, segm = measure(data, err, mask, float(pixel_sr), apertures, self)
        table = Table(columns)
        if len(table):
            ra, dec = model.meta.wcs(table["xcentroid"], table["ycentroid"])
            table["sky_centroid_ra"], table["sky_centroid_dec"] = ra, dec
            offset = self._abvega(model)
            for name in [c for c in table.colnames if c.endswith("_flux") and c.startswith(("aper", "iso"))]:
                stem = name[:-5]
                table[f"{stem}_abmag"] = ab_mag(np.asarray(table[name]))
                table[f"{stem}_vegamag"] = table[f"{stem}_abmag"] - offset
        self.log.info("Detected %d sources", len(table))
        name = str(model.meta.filename or "image3_i2d.fits")
        table.meta.update({"product": name, "aperture_ee": list(apertures.ee),
                           "aperture_radii": list(apertures.radii), "apcorr": apertures.apcorr})
        model.meta.cal_step.source_catalog = "COMPLETE"
        object.__setattr__(self, "_products", (segm, model))
        return table

    def _save_result(self, result: Any) -> None:
        """Write the catalog and segmentation map (instead of saving a data model)."""
        products = getattr(self, "_products", None)
        if products is not None and self.saves_results():
            self._save(result, *products)

    def _lookup(self, model: Any, reftype: str) -> str | None:
        try:
            path = self.get_reference_file(model, reftype)
        except ReferenceFileError as error:
            self.log.warning("No %s reference file (%s)", reftype.upper(), error)
            return None
        return None if not path or str(path).upper() == "N/A" else str(path)

    def _apertures(self, model: Any, ees: tuple[int, ...]) -> ApertureSet:
        path = self._lookup(model, "apcorr")
        if path is not None:
            from astropy.table import Table

            table = Table.read(path, hdu=1) if path.endswith(".fits") else Table.read(path)
            rows = table
            for key, value in (("filter", model.meta.instrument.filter), ("pupil", model.meta.instrument.pupil)):
                if key in rows.colnames and value is not None:
                    rows = rows[np.char.upper(np.asarray(rows[key], str)) == str(value).upper()]
            if len(rows):
                frac = np.asarray(rows["eefraction"], float)
                radius = np.asarray(rows["radius"], float)
                order = np.argsort(frac)
                radii = tuple(float(np.interp(e / 100.0, frac[order], radius[order])) for e in ees)
                top = int(np.argmin(np.abs(frac - max(ees) / 100.0)))
                return ApertureSet(tuple(ees), radii, float(rows["apcorr"][top]), float(rows["skyin"][top]),
                                   float(rows["skyout"][top]))
            self.log.warning("APCORR %s has no row for this filter; using Gaussian apertures", path)
        self.log.warning("Apertures of a Gaussian star of FWHM kernel_fwhm=%s pixels", self.kernel_fwhm)
        return gaussian_apertures(self.kernel_fwhm / 2.3548, ees)

    def _abvega(self, model: Any) -> float:
        path = self._lookup(model, "abvegaoffset")
        if path is None:
            return float("nan")
        from astropy.table import Table

        table = Table.read(path, hdu=1) if path.endswith(".fits") else Table.read(path)
        rows = table[np.char.upper(np.asarray(table["filter"], str)) == str(model.meta.instrument.filter).upper()]
        return float(rows["abvega_offset"][0]) if len(rows) else float("nan")

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
