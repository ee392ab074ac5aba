"""Scene masks: which pixels of a draft rate image are background.

A pixel is background unless it is NaN or exactly zero, lies in a known
science region (when asked), or is an outlier or source in a sigma clip of the
rate image. The kernels are pure numpy; DQ bit values are arguments.
"""

from __future__ import annotations

import logging

import numpy as np

from builtin_steps.clean_flicker_noise.background import clip_to_background

__all__ = ["NRS_FS_REGION", "science_region_mask", "create_mask"]

log = logging.getLogger(__name__)

#: Rows (start, stop) of the NIRSpec fixed-slit region, masked for IFU and MOS data.
NRS_FS_REGION = (922, 1116)


def science_region_mask(
    mask: np.ndarray,
    dq: np.ndarray,
    exp_type: str,
    *,
    msa_failed_open: int,
    do_not_use: int,
    non_science: int,
) -> None:
    """Mask the known science (or irrelevant) regions of an exposure, in place.

    Parameters
    ----------
    mask : numpy.ndarray of bool
        ``(ny, nx)`` or ``(nints, ny, nx)`` mask, True = background.
    dq : numpy.ndarray of int
        DQ array of the rate image(s), broadcastable to ``mask``.
    exp_type : str
        Exposure type (any case).
    msa_failed_open, do_not_use, non_science : int
        DQ bit values.

    Notes
    -----
    NIRSpec: pixels flagged MSA_FAILED_OPEN are masked, and for IFU and MOS
    exposures the fixed-slit rows 922-1115. Slit and slice footprints need a
    WCS, which is not computed here: they are found by the sigma clip instead.
    MIRI imaging: DO_NOT_USE and NON_SCIENCE pixels are masked.
    """
    exp = exp_type.lower()
    if exp.startswith("nrs"):
        mask &= (dq & msa_failed_open) == 0
        if exp in ("nrs_ifu", "nrs_msaspec", "nrs_fixedslit", "nrs_brightobj"):
            log.info("Slit and slice footprints need a WCS; relying on the sigma clip to mask them.")
        if exp in ("nrs_ifu", "nrs_msaspec"):
            log.info("Masking the fixed slit region for %s data.", exp.upper())
            mask[..., NRS_FS_REGION[0] : NRS_FS_REGION[1], :] = False
    elif exp == "mir_image":
        mask &= (dq & (do_not_use | non_science)) == 0
    elif exp == "nis_soss":
        log.warning("Masking the SOSS traces is not available; relying on the sigma clip.")


def create_mask(
    rate: np.ndarray,
    dq: np.ndarray,
    exp_type: str,
    *,
    mask_science_regions: bool = False,
    n_sigma: float = 2.0,
    fit_histogram: bool = False,
    single_mask: bool = False,
    msa_failed_open: int = 1 << 29,
    do_not_use: int = 1,
    non_science: int = 1 << 9,
) -> np.ndarray:
    """Make a background mask from a draft rate image or cube.

    Parameters
    ----------
    rate : numpy.ndarray
        ``(ny, nx)`` rate image or ``(nints, ny, nx)`` rate cube.
    dq : numpy.ndarray of int
        DQ of the rate, broadcastable to ``rate``.
    exp_type : str
        Exposure type.
    mask_science_regions : bool
        Mask known science regions (:func:`science_region_mask`).
    n_sigma : float
        Upper clipping limit for signal (sigma units); 0 skips the clip. The
        lower limit for bad values is 3 sigma.
    fit_histogram : bool
        Derive the clipping center and width from a Gaussian fit to a
        histogram of the values.
    single_mask : bool
        Collapse a 3-D mask to one plane (background in every integration).
    msa_failed_open, do_not_use, non_science : int
        DQ bit values.

    Returns
    -------
    numpy.ndarray of bool
        True for background pixels.
    """
    mask = np.ones(rate.shape, dtype=bool)
    if mask_science_regions:
        science_region_mask(
            mask, np.broadcast_to(dq, rate.shape), exp_type,
            msa_failed_open=msa_failed_open, do_not_use=do_not_use, non_science=non_science,
        )
    mask &= ~(np.isnan(rate) | (rate == 0))
    if n_sigma > 0:
        planes = rate.reshape((-1,) + rate.shape[-2:])
        mplanes = mask.reshape(planes.shape)
        for plane, mplane in zip(planes, mplanes):
            clip_to_background(plane, mplane, sigma_upper=n_sigma, fit_histogram=fit_histogram)
    if single_mask and mask.ndim == 3:
        mask = np.all(mask, axis=0)
    return mask
