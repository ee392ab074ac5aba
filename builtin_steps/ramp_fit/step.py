"""RampFitStep: count rates (DN/s) from ramps, per integration and combined."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import (
    REFERENCE_PIXEL,
    check_reference_coverage,
    open_ramp,
    reference_row_reader,
    reference_rows,
)
from builtin_steps.ramp_fit.ols import DO_NOT_USE, allocate_outputs, fit_ramps
from pipeline_core import Step
from pipeline_core.datamodels import open_model
from pipeline_core.errors import ParameterError, ReferenceFileError

__all__ = ["RampFitStep", "flag_outside_groups"]

#: Pixels fitted per band of rows in this process (gain and read noise are read per band).
_BAND_PIXELS = 1 << 19


class RampFitStep(Step):
    """Fit a line to each ramp with optimally weighted least squares.

    The parameters and defaults are those of the JWST ``ramp_fit`` step.
    ``OLS_C`` (the default) and ``OLS`` name the same algorithm here;
    ``LIKELY`` and ``save_opt=True`` (the optional fit product) are not
    provided and raise a ParameterError.

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
    spec = """
        algorithm = option('OLS', 'OLS_C', 'LIKELY', default='OLS_C') # 'OLS' and 'OLS_C' are the same algorithm here
        int_name = string(default='')  # accepted for JWST files; the rateints product is named from the input or output_file
        save_opt = boolean(default=False) # Save optional output (not provided)
        opt_name = string(default='')  # accepted for JWST files; unused, since save_opt is not provided
        suppress_one_group = boolean(default=True)  # Suppress saturated ramps with good 0th group
        firstgroup = integer(default=None)   # Ignore groups before this one (zero indexed)
        lastgroup = integer(default=None)   # Ignore groups after this one (zero indexed)
    """

    #: The only weighting offered (as in JWST, not a parameter).
    weighting = "optimal"

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
            For ``algorithm='LIKELY'`` or ``save_opt=True``.
        ReferenceFileError
            If the gain or read-noise reference is not available.
        """
        self._refuse_unsupported()
        model = open_ramp(self, step_input)
        refs = self._references(model)
        groupdq = model.groupdq
        if self.firstgroup is not None or self.lastgroup is not None:
            groupdq = groupdq.copy()
            flag_outside_groups(groupdq, self.firstgroup, self.lastgroup, log=self.log)
        self.log.info("Using algorithm = %s, weighting = %s", self.algorithm, self.weighting)
        products = self._fit(model, groupdq, refs)
        self._warn_unusable(model, products["rate"])
        return self._rate_model(model, products), self._rateints_model(model, products)

    def _warn_unusable(self, model: Any, rate: np.ndarray) -> None:
        """One WARNING when values are NaN/infinite or no science pixel has a rate."""
        science = (np.asarray(model.pixeldq) & REFERENCE_PIXEL) == 0
        total = int(science.sum())
        if not total:
            return
        nonfinite = np.zeros(science.shape, dtype=bool)
        for integration in model.data:
            for group in integration:
                nonfinite |= ~np.isfinite(group)
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

    def _refuse_unsupported(self) -> None:
        if self.algorithm == "LIKELY":
            raise ParameterError(
                f"step {self.name}: parameter algorithm='LIKELY' (likelihood fitting) is not "
                "provided by this ramp_fit step; accepted values: 'OLS_C' (default) or 'OLS'"
            )
        if self.save_opt:
            raise ParameterError(
                f"step {self.name}: parameter save_opt=True asks for the optional per-segment fit "
                "product, which this ramp_fit step does not write; accepted value: False"
            )

    def _references(self, model: Any) -> dict[str, Any]:
        """Open the gain and read-noise references lazily (checked, not yet read)."""
        refs = {}
        for reftype in ("readnoise", "gain"):
            path = self.get_reference_file(model, reftype)
            if path == "N/A":
                raise ReferenceFileError(
                    f"step {self.name}: no {reftype} reference file applies to "
                    f"'{model.meta.filename or 'the input'}'; ramp fitting needs both gain and "
                    f"readnoise. Give one with override_{reftype}=<file>"
                )
            self.log.info("Using %s reference file %s", reftype.upper(), path)
            ref = open_model(path, lazy=True)
            check_reference_coverage(self, model, ref, reftype)
            if reftype == "gain" and ref.meta.exposure.gain_factor is not None:
                model.meta.exposure.gain_factor = ref.meta.exposure.gain_factor
            refs[reftype] = ref
        return refs

    def _fit(self, model: Any, groupdq: np.ndarray, refs: dict[str, Any]) -> dict:
        """Fit all pixels: in bands of rows in this process, or on ``max_workers`` cores.

        In this process the gain and read noise are read band by band (only the
        outputs are full-size); on several cores every block of rows reads its
        own rows of them. Pixels are independent, so both give identical results.
        """
        from pipeline_core.parallel import map_row_slices

        exposure = model.meta.exposure
        group_time = exposure.group_time
        frame_time = exposure.frame_time or group_time
        if not group_time:
            raise ParameterError(
                f"step {self.name}: the input '{model.meta.filename or 'ramp'}' has no group time "
                "(meta.exposure.group_time, keyword TGROUP); it is needed to compute rates"
            )
        nints, _ngroups, ny, nx = model.data.shape
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
        if self.max_workers > 1 and ny > 1:
            for reftype in ("gain", "readnoise"):
                # still in its file: each block reads its own rows
                inputs[reftype] = reference_row_reader(self, model, refs[reftype], "data", reftype)
            return map_row_slices(
                fit_ramps, inputs, max_workers=self.max_workers, kwargs=kwargs, out_keyword="out"
            )
        products = allocate_outputs(nints, ny, nx)
        band = max(1, _BAND_PIXELS // max(nx, 1))
        for lo in range(0, ny, band):
            rows = slice(lo, min(ny, lo + band))
            part = {name: arr[..., rows, :] for name, arr in inputs.items()}
            for reftype in ("gain", "readnoise"):
                part[reftype] = self._ref_rows(model, refs[reftype], rows, reftype)
            fit_ramps(**part, **kwargs, out={name: arr[..., rows, :] for name, arr in products.items()})
        return products

    def _ref_rows(self, model: Any, ref: Any, rows: slice, reftype: str) -> np.ndarray:
        return np.asarray(reference_rows(self, model, ref, "data", rows, reftype), dtype=np.float32)

    def _rate_model(self, model: Any, products: dict) -> Any:
        from pipeline_core.datamodels import ImageModel

        return _product(ImageModel, model, products, "rate")

    def _rateints_model(self, model: Any, products: dict) -> Any:
        from pipeline_core.datamodels import CubeModel

        out = _product(CubeModel, model, products, "ints")
        if model.int_times is not None:
            out.int_times = model.int_times
        return out


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
