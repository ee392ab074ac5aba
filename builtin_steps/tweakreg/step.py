"""TweakRegStep: find stars, match them between exposures and correct the WCSs (tweakwcs).

Each exposure's stars (:func:`builtin_steps.tweakreg.sources.find_stars`) are
handed with its WCS to tweakwcs' ``JWSTWCSCorrector``; ``tweakwcs.align_wcs``
matches the catalogs (``XYXYMatch``) and fits the corrections (``fitgeometry``)
group by group (exposures of one exposure group move together). With
``abs_refcat`` naming a catalog file (columns ``RA``, ``DEC`` in degrees), the
aligned exposures are then fitted to it as one group. The corrected WCS has
the extra ``v2v3corr`` frame, as jwst's.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from builtin_steps.library import as_library
from builtin_steps.tweakreg.sources import find_stars
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ParameterError

__all__ = ["TweakRegStep"]

_ONLINE_CATALOGS = ("GAIAREFCAT", "GAIADR3", "GAIADR2", "GAIADR1")


class TweakRegStep(Step):
    """Align the exposures' WCS: relative alignment, then optionally to ``abs_refcat``.

    Input: an Image3 association, a list of calibrated images with a WCS, or a
    :class:`~builtin_steps.library.ModelLibrary`. Output: the library with
    corrected WCSs (``meta.cal_step.tweakreg`` ``COMPLETE``, or ``SKIPPED``
    when there are too few stars or a single exposure group and no reference
    catalog).
    """

    class_alias = "tweakreg"
    legacy_class_paths = ("jwst.tweakreg.tweakreg_step.TweakRegStep",)
    spec = """
        save_catalogs = boolean(default=False) # Write out catalogs?
        use_custom_catalogs = boolean(default=False) # Use custom user-provided catalogs?
        catalog_format = string(default='ecsv') # Catalog output file format
        catfile = string(default='') # Name of the file with a list of custom user-provided catalogs
        starfinder = option('dao', 'iraf', 'segmentation', default='iraf') # Star finder to use.
        snr_threshold = float(default=10.0) # SNR threshold above the bkg for star finder
        kernel_fwhm = float(default=2.5) # Gaussian kernel FWHM in pixels
        bkg_boxsize = integer(default=400) # The background mesh box size in pixels.
        minsep_fwhm = float(default=0.0) # Minimum separation between detected objects in FWHM
        sigma_radius = float(default=1.5) # Truncation radius of the Gaussian kernel, units of sigma
        sharplo = float(default=0.5) # The lower bound on sharpness for object detection.
        sharphi = float(default=2.0) # The upper bound on sharpness for object detection.
        roundlo = float(default=0.0) # The lower bound on roundness for object detection.
        roundhi = float(default=0.2) # The upper bound on roundness for object detection.
        brightest = integer(default=200) # Keep top ``brightest`` objects
        peakmax = float(default=None) # Filter out objects with pixel values >= ``peakmax``
        npixels = integer(default=10) # Minimum number of connected pixels
        connectivity = option(4, 8, default=8) # The connectivity defining the neighborhood of a pixel
        nlevels = integer(default=32) # Number of multi-thresholding levels for deblending
        contrast = float(default=0.001) # Fraction of total source flux an object must have to be deblended
        multithresh_mode = option('exponential', 'linear', 'sinh', default='exponential') # Multi-thresholding mode
        localbkg_width = integer(default=0) # Width of rectangular annulus used to compute local background around each source
        apermask_method = option('correct', 'mask', 'none', default='correct') # How to handle neighboring sources
        kron_params = float_list(min=2, max=3, default=None) # Parameters defining Kron aperture
        deblend = boolean(default=True) # deblend sources?
        enforce_user_order = boolean(default=False) # Align images in user specified order?
        expand_refcat = boolean(default=False) # Expand reference catalog with new sources?
        minobj = integer(default=15) # Minimum number of objects acceptable for matching
        fitgeometry = option('shift', 'rshift', 'rscale', 'general', default='rshift') # Fitting geometry
        nclip = integer(min=0, default=3) # Number of clipping iterations in fit
        sigma = float(min=0.0, default=3.0) # Clipping limit in sigma units
        searchrad = float(default=2.0) # The search radius in arcsec for a match
        use2dhist = boolean(default=True) # Use 2d histogram to find initial offset?
        separation = float(default=1.0) # Minimum object separation for xyxymatch in arcsec
        tolerance = float(default=0.7) # Matching tolerance for xyxymatch in arcsec
        xoffset = float(default=0.0) # Initial guess for X offset in arcsec
        yoffset = float(default=0.0) # Initial guess for Y offset in arcsec
        abs_refcat = string(default='') # Catalog file name (columns RA, DEC in degrees), or ''
        save_abs_catalog = boolean(default=False) # Write out used absolute astrometric reference catalog as a separate product
        abs_minobj = integer(default=15) # Minimum number of objects acceptable for matching when performing absolute astrometry
        abs_fitgeometry = option('shift', 'rshift', 'rscale', 'general', default='rshift')  # Fit geometry of the alignment to abs_refcat
        abs_nclip = integer(min=0, default=3) # Number of clipping iterations in fit when performing absolute astrometry
        abs_sigma = float(min=0.0, default=3.0) # Clipping limit in sigma units when performing absolute astrometry
        abs_searchrad = float(default=6.0) # The search radius in arcsec for a match when performing absolute astrometry
        abs_use2dhist = boolean(default=True) # Use 2D histogram to find initial offset when performing absolute astrometry?
        abs_separation = float(default=1) # Minimum object separation in arcsec when performing absolute astrometry
        abs_tolerance = float(default=0.7) # Matching tolerance for xyxymatch in arcsec when performing absolute astrometry
        sip_approx = boolean(default=True) # enables SIP approximation for imaging modes.
        sip_max_pix_error = float(default=0.01) # max err for SIP fit, forward.
        sip_degree = integer(max=6, default=None) # degree for forward SIP fit, None to use best fit.
        sip_max_inv_pix_error = float(default=0.01) # max err for SIP fit, inverse.
        sip_inv_degree = integer(max=6, default=None) # degree for inverse SIP fit, None to use best fit.
        sip_npoints = integer(default=12) #  number of points for SIP
        output_use_model = boolean(default=True) # When saving use `DataModel.meta.filename`
        in_memory = boolean(default=True) # If False, preserve memory using temporary files at expense of runtime
    """

    def process(self, step_input: Any) -> Any:
        """Align the exposures.

        Parameters
        ----------
        step_input : ModelLibrary, association file or list of images
            Calibrated images with a WCS.

        Returns
        -------
        ModelLibrary
            The same exposures with corrected WCSs.
        """
        library = as_library(step_input, on_disk=not self.in_memory)
        refcat = self._reference_catalog()
        correctors = []
        for index, model in library.models(modify=False):
            correctors.append(self._corrector(index, model))
        groups = {c.meta["group_id"] for c in correctors}
        usable = [c for c in correctors if len(c.meta["catalog"]) >= self.minobj]
        if len(usable) < len(correctors):
            self.log.warning("%d exposure(s) have fewer than minobj=%d stars", len(correctors) - len(usable),
                             self.minobj)
        done = False
        if len(groups) > 1 and len(usable) == len(correctors):
            done = self._align(correctors, None)
        elif len(groups) <= 1:
            self.log.info("A single exposure group: relative alignment skipped")
        if refcat is not None and usable:
            for c in correctors:
                c.meta["group_id"] = "abs"
            done = self._align(correctors, refcat, absolute=True) or done
        for index, model in library.models():
            if done:
                model.meta.wcs = correctors[index].wcs
                self._update_sip(model)
            model.meta.cal_step.tweakreg = "COMPLETE" if done else "SKIPPED"
        return library

    # ------------------------------------------------------------------ pieces
    def _reference_catalog(self) -> Any:
        name = (self.abs_refcat or "").strip()
        if not name or name.lower() == "none":
            return None
        if name.upper() in _ONLINE_CATALOGS and not os.path.exists(name):
            raise ParameterError(
                f"step '{self.name}': abs_refcat = {name!r} names an online catalog; steppe works "
                "offline. Give a catalog file (ECSV or FITS table with RA and DEC columns in degrees)."
            )
        from astropy.table import Table

        try:
            table = Table.read(name)
        except (OSError, ValueError) as error:
            raise ParameterError(
                f"step '{self.name}': abs_refcat = {name!r} cannot be read ({error}); give an ECSV or "
                "FITS table with RA and DEC columns in degrees."
            ) from error
        cols = {c.upper(): c for c in table.colnames}
        if "RA" not in cols or "DEC" not in cols:
            raise ParameterError(
                f"step '{self.name}': abs_refcat = {name!r} has columns {table.colnames}; it needs RA "
                "and DEC (degrees)."
            )
        out = Table({"RA": np.asarray(table[cols["RA"]], float), "DEC": np.asarray(table[cols["DEC"]], float)})
        out.meta["name"] = os.path.basename(name)
        return out

    def _corrector(self, index: int, model: Any) -> Any:
        from astropy.table import Table
        from tweakwcs.correctors import JWSTWCSCorrector

        from builtin_steps.library import exposure_group

        dq = np.asarray(model.dq)
        mask = (dq & np.uint32(PIXEL["DO_NOT_USE"])) != 0
        stars = find_stars(np.asarray(model.data), mask, self)
        name = model.meta.filename or f"member{index}"
        self.log.info("Detected %d sources in %s", len(stars), name)
        catalog = Table({"x": stars[:, 0], "y": stars[:, 1]}, meta={"name": name})
        info = model.meta.wcsinfo
        wcsinfo = {"roll_ref": info.roll_ref, "v2_ref": info.v2_ref, "v3_ref": info.v3_ref}
        return JWSTWCSCorrector(
            wcs=model.meta.wcs, wcsinfo=wcsinfo,
            meta={"catalog": catalog, "name": name, "group_id": exposure_group(model)},
        )

    def _align(self, correctors: list[Any], refcat: Any, *, absolute: bool = False) -> bool:
        from tweakwcs.imalign import align_wcs
        from tweakwcs.matchutils import XYXYMatch

        prefix = "abs_" if absolute else ""
        match = XYXYMatch(
            searchrad=getattr(self, prefix + "searchrad"), separation=getattr(self, prefix + "separation"),
            use2dhist=getattr(self, prefix + "use2dhist"), tolerance=getattr(self, prefix + "tolerance"),
            xoffset=0.0 if absolute else self.xoffset, yoffset=0.0 if absolute else self.yoffset,
        )
        try:
            align_wcs(
                correctors, refcat=refcat, enforce_user_order=self.enforce_user_order or absolute,
                expand_refcat=self.expand_refcat, minobj=getattr(self, prefix + "minobj"), match=match,
                fitgeom=getattr(self, prefix + "fitgeometry"), nclip=getattr(self, prefix + "nclip"),
                sigma=(getattr(self, prefix + "sigma"), "rmse"), clip_accum=True,
            )
        except ValueError as error:
            self.log.warning("Alignment %sfailed: %s; the WCSs are left as they were",
                             "to abs_refcat " if absolute else "", error)
            return False
        fitted = [c for c in correctors if c.meta.get("fit_info", {}).get("status") == "SUCCESS"]
        for c in fitted:
            info = c.meta["fit_info"]
            self.log.info("%s: shift %s arcsec, rot %s deg, rms %s", c.meta["name"], info.get("shift"),
                          info.get("rot"), info.get("rmse"))
        return bool(fitted)

    def _update_sip(self, model: Any) -> None:
        if not self.sip_approx:
            return
        from builtin_steps.assign_wcs.imaging import fits_sip_keywords, s_region

        try:
            keywords = fits_sip_keywords(
                model.meta.wcs, max_pix_error=self.sip_max_pix_error, degree=self.sip_degree,
                max_inv_pix_error=self.sip_max_inv_pix_error, inv_degree=self.sip_inv_degree,
                npoints=self.sip_npoints,
            )
        except (ValueError, RuntimeError) as error:
            self.log.warning("SIP approximation of the corrected WCS failed: %s", error)
            return
        for key, value in keywords.items():
            setattr(model.meta.wcsinfo, key, value)
        region = s_region(model.meta.wcs)
        if region is not None:
            model.meta.wcsinfo.s_region = region
