"""RampFitStep: count rates (DN/s) from ramps, per integration and combined."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from builtin_steps._common import (
    REFERENCE_PIXEL,
    check_reference_coverage,
    open_ramp,
    reference_rows,
    required_reference_path,
)
from builtin_steps.ramp_fit.fitopt_model import RampFitOutputModel
from builtin_steps.ramp_fit.in_ramp import products_in_ramp
from builtin_steps.ramp_fit.likely import LIKELY_MIN_NGROUPS, fit_likely
from builtin_steps.ramp_fit.ols import DO_NOT_USE, allocate_outputs, fit_ramps
from builtin_steps.ramp_fit.optional import optional_results
from builtin_steps.ramp_fit.release import release_rows
from builtin_steps.ramp_fit.step_support import (
    CHARGELOSS,
    chargeloss_rnoise,
    discard_miri_groups,
    group_flags_union,
    flag_persistence,
    likely_read_pattern,
    save_fitopt,
)
from pipeline_core import Step
from pipeline_core.datamodels import open_model
from pipeline_core.errors import ParameterError

__all__ = ["RampFitStep", "flag_outside_groups"]

#: Pixels fitted per band of rows in this process (gain and read noise are read per band).
_BAND_PIXELS = 1 << 19
#: Bands per thread on several threads: the threads finish within a small band of each other.
_BANDS_PER_THREAD = 10


class RampFitStep(Step):
    """Fit a count rate to each ramp: optimally weighted OLS or likelihood.

    The parameters and defaults are those of the JWST ``ramp_fit`` step.
    ``algorithm='OLS_C'`` (the default) fits segments of good groups by least
    squares with optimal weighting (:mod:`builtin_steps.ramp_fit.ols`);
    ``'LIKELY'`` fits resultant differences by maximum likelihood with their
    full covariance and its own jump search (:mod:`builtin_steps.ramp_fit.likely`;
    exposures of fewer than 4 groups fall back to OLS_C, as in JWST).
    ``save_opt=True`` writes the per-segment product (suffix ``fitopt``) of an
    OLS fit when the step saves its results or ``opt_name`` names the file.

    The result is a pair ``(rate, rateints)``: an ImageModel with the
    exposure's slope and a CubeModel with one slope per integration, both in
    DN/s with VAR_POISSON, VAR_RNOISE and ERR.

    NaN and infinite group values count as DO_NOT_USE; a pixel left without a
    usable group has a NaN rate and DO_NOT_USE in its DQ. A WARNING names the
    input and the share of science pixels concerned when any value is not
    finite, or when no science pixel has a usable ramp at all.
    """

    class_alias = "ramp_fit"
    legacy_class_paths = ("jwst.ramp_fitting.ramp_fit_step.RampFitStep",)
    reference_file_types = ("readnoise", "gain")
    parallel = True
    parallel_threads = True
    spec = """
        algorithm = option('OLS_C', 'LIKELY', default='OLS_C') # OLS_C: weighted least squares; LIKELY: likelihood
        int_name = string(default='')  # accepted for JWST files; the rateints product is named from the input or output_file
        save_opt = boolean(default=False) # Save optional output
        opt_name = string(default='')  # File name of the optional output (suffix fitopt appended)
        suppress_one_group = boolean(default=True)  # Suppress saturated ramps with good 0th group
        firstgroup = integer(default=None)   # Ignore groups before this one (zero indexed)
        lastgroup = integer(default=None)   # Ignore groups after this one (zero indexed)
    """

    #: The weighting of the OLS fit (as in JWST, not a parameter).
    weighting = "optimal"

    #: Set by a pipeline for which the fit is the last use of the ramp
    #: (``calwebb_detector1``): the OLS fit in this process then releases the
    #: memory of the ramp's rows as it fits them (the ramp is unusable after).
    _release_fitted_rows = False

    def process(self, step_input: Any) -> tuple[Any, Any]:
        """Fit the ramps.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The calibrated ramp (after jump detection).

        Returns
        -------
        tuple of (ImageModel, CubeModel)
            The rate and the per-integration rates.

        Raises
        ------
        ParameterError
            If the input has no group time.
        ReferenceFileError
            If the gain or read-noise reference is not available.
        """
        model = open_ramp(self, step_input)
        refs = self._references(model)
        groupdq = model.groupdq
        if self.firstgroup is not None or self.lastgroup is not None:
            groupdq = groupdq.copy()
            flag_outside_groups(groupdq, self.firstgroup, self.lastgroup, log=self.log)
        algorithm = self._algorithm(model)
        self.log.info("Using algorithm = %s, weighting = %s", algorithm, self.weighting)
        inputs, kwargs = self._inputs(model, groupdq)
        if algorithm == "LIKELY":
            kernel = fit_likely
            kwargs = {"read_pattern": likely_read_pattern(self, model)}
            inputs.pop("zeroframe", None)
        else:
            kernel = fit_ramps
            if (model.meta.instrument.name or "").upper() == "MIRI":
                inputs["data"], inputs["groupdq"] = discard_miri_groups(
                    inputs["data"], inputs["groupdq"], log=self.log
                )
        # what is needed of the whole ramp after the fit, taken before: the fit may
        # release the ramp's rows as it goes (see _release_fitted_rows)
        nonfinite, union = self._ramp_summary(model.data, inputs["groupdq"], algorithm != "LIKELY")
        release = (
            self._release_fitted_rows and algorithm != "LIKELY" and not self.save_opt
            and not (union & np.uint8(CHARGELOSS)).any()
        )
        products = self._fit(model, inputs, refs, kernel, kwargs, release=release)
        if algorithm != "LIKELY":
            flag_persistence(products, inputs["groupdq"], union)
            if (union & np.uint8(CHARGELOSS)).any():
                ny = model.data.shape[-2]
                gain, rn = (self._ref_rows(model, refs[r], slice(0, ny), r) for r in ("gain", "readnoise"))
                chargeloss_rnoise(products, inputs, gain, rn, kwargs, fit_ramps)
        if self.save_opt:
            self._optional_product(model, inputs, refs, kwargs, products, algorithm)
        self._warn_unusable(model, products["rate"], nonfinite)
        return self._rate_model(model, products), self._rateints_model(model, products)

    def _warn_unusable(self, model: Any, rate: np.ndarray, nonfinite: np.ndarray) -> None:
        """One WARNING when values are NaN/infinite or no science pixel has a rate."""
        science = (np.asarray(model.pixeldq) & REFERENCE_PIXEL) == 0
        total = int(science.sum())
        if not total:
            return
        odd = int((nonfinite & science).sum())
        unusable = int((~np.isfinite(rate) & science).sum())
        name = model.meta.filename or "the input"
        if unusable == total:
            cause = f"; {odd} of them have NaN or infinite values" if odd else ""
            self.log.warning(
                "Step %s: no science pixel of '%s' has a usable ramp: %d of %d science pixels "
                "(100 %%) are unusable (every group DO_NOT_USE, saturated from the first group, "
                "or NaN/infinite%s). The rate is NaN everywhere; check the input and its "
                "reference files.",
                self.name, name, unusable, total, cause,
            )
        elif odd:
            self.log.warning(
                "Step %s: %d of %d science pixels (%.1f %%) of '%s' have NaN or infinite values; "
                "those groups are treated as DO_NOT_USE. %d science pixels (%.1f %%) have no "
                "usable ramp (rate NaN, DQ DO_NOT_USE).",
                self.name, odd, total, 100.0 * odd / total, name, unusable, 100.0 * unusable / total,
            )

    def _algorithm(self, model: Any) -> str:
        """The algorithm to run: LIKELY needs at least 4 groups, else OLS_C."""
        ngroups = model.data.shape[1]
        if self.algorithm == "LIKELY" and ngroups < LIKELY_MIN_NGROUPS:
            self.log.info(
                "The LIKELY ramp fitting algorithm needs at least %d groups, but ngroups = %d; "
                "using OLS_C", LIKELY_MIN_NGROUPS, ngroups,
            )
            return "OLS_C"
        return self.algorithm

    def _references(self, model: Any) -> dict[str, Any]:
        """Open the gain and read-noise references lazily (checked, not yet read)."""
        refs = {}
        for reftype in ("readnoise", "gain"):
            path = required_reference_path(self, model, reftype, "ramp fitting needs both gain and readnoise")
            self.log.info("Using %s reference file %s", reftype.upper(), path)
            ref = open_model(path, lazy=True)
            check_reference_coverage(self, model, ref, reftype)
            if reftype == "gain" and ref.meta.exposure.gain_factor is not None:
                model.meta.exposure.gain_factor = ref.meta.exposure.gain_factor
            refs[reftype] = ref
        return refs

    def _inputs(self, model: Any, groupdq: np.ndarray) -> tuple[dict, dict]:
        """The per-pixel inputs and the OLS keyword arguments of the kernels."""
        exposure = model.meta.exposure
        group_time = exposure.group_time
        frame_time = exposure.frame_time or group_time
        if not group_time:
            raise ParameterError(
                f"step {self.name}: the input '{model.meta.filename or 'ramp'}' has no group time "
                "(meta.exposure.group_time, keyword TGROUP); it is needed to compute rates"
            )
        _nints, _ngroups, ny, nx = model.data.shape
        inputs = {"data": model.data, "groupdq": groupdq, "pixeldq": model.pixeldq}
        if exposure.zero_frame and model.zeroframe is not None:
            inputs["zeroframe"] = model.zeroframe
        dark = exposure.average_dark_current
        if dark:
            # one value for every pixel: a read-only view, no full-size array
            inputs["dark_current"] = np.broadcast_to(np.float32(dark), (ny, nx))
        kwargs = {
            "group_time": float(group_time),
            "frame_time": float(frame_time),
            "nframes": int(exposure.nframes or 1),
            "suppress_one_group": bool(self.suppress_one_group),
        }
        return inputs, kwargs

    def _fit(
        self, model: Any, inputs: dict, refs: dict, kernel: Any, kwargs: dict, *, release: bool = False
    ) -> dict:
        """Fit all pixels, in bands of rows, on up to ``max_workers`` threads.

        Every band reads its own rows of the gain and read noise (only the
        outputs are full-size). Pixels are independent, so any number of
        threads gives identical results. With `release` (the fit is the ramp's
        last use), each band of the ramp's group flags is given back once the
        band is fitted, and the products are written over the ramp's own
        planes (:func:`~builtin_steps.ramp_fit.in_ramp.products_in_ramp`) or,
        when they do not fit there, the band's data are given back too.
        """
        from pipeline_core.parallel import run_on_threads

        nints, _ngroups, ny, nx = model.data.shape
        in_ramp = products_in_ramp(inputs["data"]) if release else None
        products = in_ramp if in_ramp is not None else allocate_outputs(nints, ny, nx)
        workers = self.max_workers
        bands = _bands(ny, nx, workers)
        band = bands[0][1] - bands[0][0]
        scratch = threading.local()

        def fit_band(index: int) -> None:
            rows = slice(*bands[index])
            part = {name: arr[..., rows, :] for name, arr in inputs.items()}
            for reftype in ("gain", "readnoise"):
                part[reftype] = self._ref_rows(model, refs[reftype], rows, reftype)
            targets = {name: arr[..., rows, :] for name, arr in products.items()}
            if in_ramp is None:
                kernel(**part, **kwargs, out=targets)
            else:
                # the band's ramp rows are still being read: fit into scratch, then copy
                if getattr(scratch, "arrays", None) is None:
                    scratch.arrays = allocate_outputs(nints, band, nx)
                results = {name: arr[..., : rows.stop - rows.start, :] for name, arr in scratch.arrays.items()}
                kernel(**part, **kwargs, out=results)
                for name, target in targets.items():
                    np.copyto(target, results[name], casting="no")
            if release:
                del part
                release_rows(inputs["groupdq"], rows.start, rows.stop)
                if in_ramp is None:
                    release_rows(inputs["data"], rows.start, rows.stop)

        run_on_threads(fit_band, len(bands), workers, f"step {self.name}")
        return products

    def _ramp_summary(
        self, data: np.ndarray, groupdq: np.ndarray, with_union: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Where a pixel has a NaN or infinite value, and (`with_union`) the union of its group flags.

        Computed in bands of rows on the step's threads (the arrays are
        whole-ramp reductions that release the interpreter lock).

        Returns
        -------
        nonfinite : ndarray of bool, shape (ny, nx)
        union : ndarray of uint8, shape (nints, ny, nx), or None
            :func:`~builtin_steps.ramp_fit.step_support.group_flags_union`.
        """
        from pipeline_core.parallel import run_on_threads

        ny, nx = data.shape[-2:]
        nonfinite = np.empty((ny, nx), dtype=bool)
        union = np.empty((groupdq.shape[0], ny, nx), dtype=np.uint8) if with_union else None
        workers = self.max_workers
        bands = _bands(ny, nx, workers)

        def summarise(index: int) -> None:
            rows = slice(*bands[index])
            nonfinite[rows] = _nonfinite_pixels(data[..., rows, :])
            if union is not None:
                union[:, rows] = group_flags_union(groupdq[..., rows, :])

        run_on_threads(summarise, len(bands), workers, f"step {self.name}")
        return nonfinite, union

    def _ref_rows(self, model: Any, ref: Any, rows: slice, reftype: str) -> np.ndarray:
        return np.asarray(reference_rows(self, model, ref, "data", rows, reftype), dtype=np.float32)

    def _optional_product(
        self, model: Any, inputs: dict, refs: dict, kwargs: dict, products: dict, algorithm: str
    ) -> None:
        """Build and save the ``fitopt`` product of an OLS fit."""
        if algorithm == "LIKELY":
            self.log.info("save_opt: the LIKELY algorithm has no optional product; none is written")
            return
        ny = model.data.shape[-2]
        arrays = optional_results(
            inputs["data"], inputs["groupdq"],
            self._ref_rows(model, refs["gain"], slice(0, ny), "gain"),
            self._ref_rows(model, refs["readnoise"], slice(0, ny), "readnoise"),
            products["ints"],
            group_time=kwargs["group_time"], frame_time=kwargs["frame_time"],
            nframes=kwargs["nframes"], drop_frames1=int(model.meta.exposure.drop_frames1 or 0),
            suppress_one_group=kwargs["suppress_one_group"],
            zeroframe=inputs.get("zeroframe"), dark_current=inputs.get("dark_current"),
        )
        opt = RampFitOutputModel(**arrays)
        opt.update(model)
        opt.meta.filename = model.meta.filename
        save_fitopt(self, opt)

    def _rate_model(self, model: Any, products: dict) -> Any:
        from pipeline_core.datamodels import ImageModel

        return _product(ImageModel, model, products, "rate")

    def _rateints_model(self, model: Any, products: dict) -> Any:
        from pipeline_core.datamodels import CubeModel

        out = _product(CubeModel, model, products, "ints")
        if model.int_times is not None:
            out.int_times = model.int_times
        return out


def _bands(ny: int, nx: int, workers: int) -> list[tuple[int, int]]:
    """Bands of rows of about ``_BAND_PIXELS`` pixels, ``_BANDS_PER_THREAD`` or more per thread."""
    band = max(1, min(_BAND_PIXELS // max(nx, 1), -(-ny // (workers * _BANDS_PER_THREAD))))
    return [(lo, min(ny, lo + band)) for lo in range(0, ny, band)]


def _nonfinite_pixels(data: np.ndarray) -> np.ndarray:
    """Where any group of a pixel is NaN or infinite: ``(ny, nx)`` bool, plane by plane."""
    nonfinite = np.zeros(data.shape[-2:], dtype=bool)
    for integration in data:
        for group in integration:
            nonfinite |= ~np.isfinite(group)
    return nonfinite


def _product(cls: type, model: Any, products: dict, prefix: str) -> Any:
    """A rate product of class `cls` from the arrays ``<prefix>``, ``<prefix>_dq``, ..."""
    out = cls(
        data=products[prefix],
        **{name: products[f"{prefix}_{name}"] for name in ("dq", "var_poisson", "var_rnoise", "err")},
    )
    out.update(model)
    _mark(out)
    return out


def _mark(product: Any) -> None:
    product.meta.bunit_data = "DN/s"
    product.meta.bunit_err = "DN/s"
    product.meta.cal_step.ramp_fit = "COMPLETE"


def flag_outside_groups(
    groupdq: np.ndarray, firstgroup: int | None, lastgroup: int | None, *, log: Any
) -> None:
    """Set DO_NOT_USE on the groups before `firstgroup` and after `lastgroup`.

    Parameters
    ----------
    groupdq : ndarray of uint8, shape (nints, ngroups, ny, nx)
        Modified in place.
    firstgroup, lastgroup : int or None
        Zero-based first and last groups to use; None means the ramp's first
        (last) group.  Out-of-range values are clipped, and a first group at
        or after the last group is ignored, each with a warning (as JWST does).
    log : logging.Logger
        Where the warnings go.
    """
    ngroups = groupdq.shape[1]
    first = 0 if firstgroup is None else firstgroup
    last = ngroups - 1 if lastgroup is None else lastgroup
    if first < 0:
        log.warning("firstgroup %d < 0, reset to 0", first)
        first = 0
    if last >= ngroups:
        log.warning(
            "lastgroup %d >= number of groups (%d), reset to %d", last, ngroups, ngroups - 1
        )
        last = ngroups - 1
    if first >= last:
        log.warning(
            "firstgroup (%d) must be < lastgroup (%d); group selection ignored", first, last
        )
        return
    if first > 0:
        groupdq[:, :first] |= DO_NOT_USE
    if last < ngroups - 1:
        groupdq[:, last + 1 :] |= DO_NOT_USE
