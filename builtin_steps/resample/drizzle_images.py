"""Drizzle images onto an output grid with the ``drizzle`` package.

For each input image: the pixel map (where each input pixel centre falls on the
output grid, through the input WCS to the sky and the output WCS back), the
weight map (``ivm``: inverse read-noise variance; ``exptime``: the measurement
time; None: 1; zero for pixels flagged with the ``bad_bits``), then
``drizzle.resample.Drizzle.add_image`` for the data (surface brightness: input
units ``cps``, so a flat sky keeps its value), the context and the weights.

Variances follow the JWST pipeline: each input's ``sqrt(var)`` is drizzled
with the same pixel map and weights and squared; inputs are combined with the
weights ``1 / VAR_RNOISE`` (``ivm``) or the measurement time (``exptime``) as
``sum(w**2 var) / sum(w)**2``, divided by the square of the pixel-scale ratio;
the error is the square root of their sum.

Images are added one at a time (:class:`DrizzleAccumulator`): only the output
arrays, the running variance sums and the image being added are in memory, so
a mosaic of many exposures needs no more memory than one of two. The pixel map
is computed a band of rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DrizzleInput", "DrizzleResult", "DrizzleAccumulator", "pixel_map", "weight_map", "drizzle_images", "VARIANCES",
    "unsubtracted_sky",
]

#: The variance arrays resampled, in this order.
VARIANCES = ("var_rnoise", "var_poisson", "var_flat")

#: Input pixels whose output position :func:`pixel_map` computes at once.
_PIXELS_PER_BAND = 1 << 19


@dataclass
class DrizzleInput:
    """One image to resample.

    Attributes
    ----------
    data, dq : numpy.ndarray
        Science values and DQ (2-D).
    wcs : gwcs.wcs.WCS
        The image's WCS.
    variances : dict
        ``var_rnoise``, ``var_poisson``, ``var_flat`` (missing or None: not resampled).
    exposure_time, measurement_time : float or None
        Seconds (``EFFEXPTM``, ``TMEASURE``).
    sky_level : float or None
        A sky level to subtract from ``data`` before it is drizzled (see
        :func:`unsubtracted_sky`); None: nothing is subtracted.
    """

    data: np.ndarray
    dq: np.ndarray
    wcs: Any
    variances: dict[str, np.ndarray | None] = field(default_factory=dict)
    exposure_time: float | None = None
    measurement_time: float | None = None
    sky_level: float | None = None


def unsubtracted_sky(model: Any) -> float | None:
    """Return the sky level ``skymatch`` measured but did not subtract, or None.

    As in jwst, a level recorded in ``meta.background.level`` with
    ``meta.background.subtracted`` False is subtracted when the image is
    resampled (and added back to the blotted median in outlier detection).
    """
    background = model.meta.background
    level = getattr(background, "level", None)
    if level is None or getattr(background, "subtracted", None) is not False:
        return None
    level = float(level)
    return level if np.isfinite(level) else None


@dataclass
class DrizzleResult:
    """The resampled arrays.

    Attributes
    ----------
    data, wht : numpy.ndarray
        Float32 output values and total weights.
    con : numpy.ndarray or None
        Int32 context (``nplanes x ny x nx``), None when disabled.
    dq : numpy.ndarray or None
        Uint32 ORed DQ of the contributing inputs, when propagated.
    variances : dict
        Resampled variances by name (float32).
    err : numpy.ndarray or None
        Square root of the summed variances (NaN where all are NaN).
    """

    data: np.ndarray
    wht: np.ndarray
    con: np.ndarray | None
    dq: np.ndarray | None
    variances: dict[str, np.ndarray]
    err: np.ndarray | None


def pixel_map(wcs_in: Any, wcs_out: Any, shape: tuple[int, int], *, stepsize: float = 1.0, order: int = 1) -> np.ndarray:
    """Return where each input pixel centre falls on the output grid.

    Parameters
    ----------
    wcs_in, wcs_out : gwcs.wcs.WCS
        Input and output WCS.
    shape : (int, int)
        Input ``(ny, nx)``.
    stepsize : float
        Evaluate the WCSs every ``stepsize`` pixels and interpolate between
        (1: every pixel).
    order : int
        Spline order of the interpolation (1 or 3).

    Returns
    -------
    numpy.ndarray
        ``(ny, nx, 2)`` float64: output x and y (0-based) of every input pixel;
        NaN outside the input's bounding box.
    """
    ny, nx = shape
    if stepsize <= 1:
        # a band of rows at a time: the WCS transforms' temporaries stay small
        pixmap = np.empty((ny, nx, 2), np.float64)
        rows = max(1, _PIXELS_PER_BAND // max(nx, 1))
        for start in range(0, ny, rows):
            stop = min(ny, start + rows)
            y, x = np.indices((stop - start, nx), dtype=np.float64)
            y += start
            ra, dec = wcs_in(x, y)
            pixmap[start:stop, :, 0], pixmap[start:stop, :, 1] = wcs_out.invert(ra, dec, with_bounding_box=False)
        return pixmap
    from scipy.interpolate import RectBivariateSpline

    xs = np.unique(np.append(np.arange(0, nx, stepsize), nx - 1)).astype(np.float64)
    ys = np.unique(np.append(np.arange(0, ny, stepsize), ny - 1)).astype(np.float64)
    gx, gy = np.meshgrid(xs, ys)
    ra, dec = wcs_in(gx, gy, with_bounding_box=False)
    xo, yo = wcs_out.invert(ra, dec, with_bounding_box=False)
    k = min(order, len(xs) - 1, len(ys) - 1)
    full_x, full_y = np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64)
    out_x = RectBivariateSpline(ys, xs, xo, kx=k, ky=k)(full_y, full_x)
    out_y = RectBivariateSpline(ys, xs, yo, kx=k, ky=k)(full_y, full_x)
    pixmap = np.dstack([out_x, out_y])
    try:
        (x0, x1), (y0, y1) = wcs_in.bounding_box.bounding_box(order="F")
    except (AttributeError, NotImplementedError, TypeError):
        return pixmap
    yy, xx = np.indices(shape)
    outside = (xx < x0) | (xx > x1) | (yy < y0) | (yy > y1)
    pixmap[outside] = np.nan
    return pixmap


def weight_map(item: DrizzleInput, weight_type: str | None, bad_bits: int) -> np.ndarray:
    """Return the drizzle weight of each input pixel.

    Parameters
    ----------
    item : DrizzleInput
        The image.
    weight_type : {"ivm", "exptime", None}
        ``ivm``: ``1 / VAR_RNOISE`` (1 where it is missing; 0 where it is not
        positive and finite); ``exptime``: the measurement time (else the
        exposure time); None: 1.
    bad_bits : int
        DQ bits that make a pixel's weight 0.

    Returns
    -------
    numpy.ndarray
        Float32 weights.

    Raises
    ------
    ValueError
        For another weight type.
    """
    good = (np.asarray(item.dq) & np.uint32(bad_bits)) == 0
    if weight_type == "ivm":
        var = item.variances.get("var_rnoise")
        if var is None or var.shape != item.data.shape:
            weight = np.ones(item.data.shape, np.float32)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                weight = 1.0 / np.asarray(var, np.float64)
            weight[~np.isfinite(weight) | (weight < 0)] = 0.0
    elif weight_type == "exptime":
        time = item.measurement_time if item.measurement_time is not None else item.exposure_time
        weight = np.full(item.data.shape, float(time or 1.0))
    elif weight_type is None:
        weight = np.ones(item.data.shape)
    else:
        raise ValueError(f"weight_type must be 'ivm', 'exptime' or None, got {weight_type!r}")
    return (weight * good).astype(np.float32)


def _bounds(shape: tuple[int, int], wcs: Any) -> dict[str, int]:
    ny, nx = shape
    try:
        (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    except (AttributeError, NotImplementedError, TypeError):
        return {"xmin": 0, "xmax": nx - 1, "ymin": 0, "ymax": ny - 1}
    xmin, ymin = max(0, int(x0 + 0.5)), max(0, int(y0 + 0.5))
    return {
        "xmin": xmin,
        "xmax": max(xmin, min(nx - 1, int(x1 + 0.5))),
        "ymin": ymin,
        "ymax": max(ymin, min(ny - 1, int(y1 + 0.5))),
    }


class DrizzleAccumulator:
    """Resample images onto one output grid, one image at a time.

    Each :meth:`add` drizzles one image into the running output (drizzle's
    incremental ``add_image``) and into the running variance sums, so only the
    output arrays and the image being added are in memory, however many
    images there are.

    Parameters
    ----------
    wcs_out : gwcs.wcs.WCS
        The output WCS.
    shape : (int, int)
        Output ``(ny, nx)``.
    n_inputs : int
        How many images will be added (the context image has one bit each).
    pixfrac, kernel, fillval : float, str, str
        Drizzle's pixel shrinking, kernel and value of uncovered pixels.
    weight_type : {"ivm", "exptime", None}
        See :func:`weight_map`.
    bad_bits : int
        DQ bits of pixels left out.
    pixel_scale_ratio : float
        Output over input pixel scale (kernel sizes; variance scaling).
    enable_ctx, enable_var, propagate_dq : bool
        Make the context, the variances (and the error), the output DQ.
    pixmap_stepsize, pixmap_order : float, int
        See :func:`pixel_map`.
    """

    def __init__(
        self,
        wcs_out: Any,
        shape: tuple[int, int],
        *,
        n_inputs: int,
        pixfrac: float = 1.0,
        kernel: str = "square",
        fillval: str = "NAN",
        weight_type: str | None = "ivm",
        bad_bits: int = 1,
        pixel_scale_ratio: float = 1.0,
        enable_ctx: bool = True,
        enable_var: bool = True,
        propagate_dq: bool = False,
        pixmap_stepsize: float = 1.0,
        pixmap_order: int = 1,
    ) -> None:
        from drizzle.resample import Drizzle

        self.wcs_out, self.shape = wcs_out, tuple(shape)
        self.pixfrac, self.kernel, self.weight_type, self.bad_bits = pixfrac, kernel, weight_type, bad_bits
        self.pixel_scale_ratio = pixel_scale_ratio
        self.enable_var, self.propagate_dq = enable_var, propagate_dq
        self.pixmap_stepsize, self.pixmap_order = pixmap_stepsize, pixmap_order
        self._driz = Drizzle(
            kernel=kernel, fillval=fillval, out_shape=self.shape, max_ctx_id=max(int(n_inputs) - 1, 0),
            disable_ctx=not enable_ctx,
        )
        self._sums: dict[str, np.ndarray] = {}
        self._totals: dict[str, np.ndarray] = {}
        self.count = 0

    def add(self, item: DrizzleInput) -> None:
        """Drizzle one image into the output.

        Parameters
        ----------
        item : DrizzleInput
            The image; nothing of it is kept.
        """
        shape = item.data.shape
        pixmap = pixel_map(item.wcs, self.wcs_out, shape, stepsize=self.pixmap_stepsize, order=self.pixmap_order)
        common = dict(
            pixmap=pixmap, iscale=1.0, pixel_scale_ratio=self.pixel_scale_ratio,
            weight_map=weight_map(item, self.weight_type, self.bad_bits), wht_scale=1.0, pixfrac=self.pixfrac,
            in_units="cps", **_bounds(shape, item.wcs),
        )
        data = np.asarray(item.data, np.float32)
        if item.sky_level is not None:
            data = data - np.float32(item.sky_level)
        dq = np.asarray(item.dq, np.uint32) if self.propagate_dq else None
        self._driz.add_image(data, exptime=float(item.exposure_time or 1.0), dq=dq, **common)
        if self.enable_var:
            _add_variances(item, common, self.shape, self.kernel, self.weight_type, self._sums, self._totals)
        self.count += 1

    def result(self) -> DrizzleResult:
        """Return the resampled arrays of the images added so far."""
        variances: dict[str, np.ndarray] = {}
        err = None
        if self.enable_var and self._sums:
            scaling = 1.0 / self.pixel_scale_ratio**2
            with np.errstate(divide="ignore", invalid="ignore"):
                for name in VARIANCES:
                    if name in self._sums:
                        total = self._totals[name]
                        variances[name] = (self._sums[name] * scaling / total / total).astype(np.float32)
            stack = np.array(list(variances.values()))
            all_nan = np.all(np.isnan(stack), axis=0)
            err = np.sqrt(np.nansum(stack, axis=0)).astype(np.float32)
            err[all_nan] = np.nan
        driz = self._driz
        return DrizzleResult(
            data=driz.out_img, wht=driz.out_wht, con=driz.out_ctx,
            dq=driz.out_dq if self.propagate_dq else None, variances=variances, err=err,
        )


def drizzle_images(
    inputs: Iterable[DrizzleInput],
    wcs_out: Any,
    shape: tuple[int, int],
    *,
    n_inputs: int | None = None,
    **options: Any,
) -> DrizzleResult:
    """Resample images onto one output grid.

    Parameters
    ----------
    inputs : iterable of DrizzleInput
        The images; a generator is consumed one image at a time (see
        :class:`DrizzleAccumulator`).
    wcs_out : gwcs.wcs.WCS
        The output WCS.
    shape : (int, int)
        Output ``(ny, nx)``.
    n_inputs : int, optional
        How many images there are (needed when ``inputs`` has no length).
    **options
        The keywords of :class:`DrizzleAccumulator` (``pixfrac``, ``kernel``,
        ``fillval``, ``weight_type``, ``bad_bits``, ``pixel_scale_ratio``,
        ``enable_ctx``, ``enable_var``, ``propagate_dq``, ``pixmap_stepsize``,
        ``pixmap_order``).

    Returns
    -------
    DrizzleResult
    """
    if n_inputs is None:
        n_inputs = len(inputs)  # type: ignore[arg-type]
    accumulator = DrizzleAccumulator(wcs_out, shape, n_inputs=n_inputs, **options)
    for item in inputs:
        accumulator.add(item)
    return accumulator.result()


def _add_variances(
    item: DrizzleInput, common: dict[str, Any], shape: tuple[int, int], kernel: str,
    weight_type: str | None, sums: dict[str, np.ndarray], totals: dict[str, np.ndarray],
) -> None:
    """Drizzle one input's variances and add them to the running weighted sums."""
    from drizzle.resample import Drizzle

    resampled: dict[str, np.ndarray] = {}
    for name in VARIANCES:
        var = item.variances.get(name)
        if var is None or var.shape != item.data.shape:
            continue
        driz = Drizzle(kernel=kernel, fillval="NAN", out_shape=shape, disable_ctx=True)
        with np.errstate(invalid="ignore"):
            sigma = np.sqrt(np.asarray(var, np.float32))
        driz.add_image(sigma, exptime=float(item.exposure_time or 1.0), **common)
        resampled[name] = driz.out_img.astype(np.float64) ** 2
    if not resampled:
        return
    if weight_type == "ivm" and "var_rnoise" in resampled:
        rn = resampled["var_rnoise"]
        weight = np.zeros(shape)
        usable = np.isfinite(rn) & (rn > 0)
        weight[usable] = 1.0 / rn[usable]
    else:
        time = item.measurement_time if item.measurement_time is not None else item.exposure_time
        weight = np.full(shape, float(time or 1.0))
    for name, var in resampled.items():
        usable = np.isfinite(var) & (var >= 0) & (weight > 0)
        total = sums.setdefault(name, np.full(shape, np.nan))
        count = totals.setdefault(name, np.zeros(shape))
        total[usable] = np.nansum([total[usable], var[usable] * weight[usable] ** 2], axis=0)
        count[usable] += weight[usable]
