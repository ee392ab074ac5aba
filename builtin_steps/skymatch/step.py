"""SkyMatchStep: sky levels of the exposures, global, matched or both.

Each exposure's sky is a sigma-clipped statistic (``skystat``: ``median``,
``mean``, ``mode`` = 3 median - 2 mean, ``midpt`` = median) of its good pixels
(``dqbits``, ``lower``/``upper``, ``nclip`` iterations at ``lsigma``/``usigma``).

* ``global``: every exposure gets the lowest sky of all;
* ``match``: each exposure's offset from the lowest (``match_down``) or the
  highest sky, so that the exposures agree with each other (measured on each
  whole image, not only on the overlaps as jwst does);
* ``global+match``: the matched offsets plus the global sky that remains;
* ``local``: each exposure's own sky; ``user``: values read from ``skylist``.

The level is recorded in ``meta.background.level`` (``subtracted`` tells
whether it was taken out of the data: ``subtract``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps.library import as_library
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ParameterError

__all__ = ["SkyMatchStep", "sky_statistic"]


def sky_statistic(values: np.ndarray, stat: str, nclip: int, lsigma: float, usigma: float) -> float:
    """Sigma-clipped sky statistic of a set of pixel values.

    Parameters
    ----------
    values : numpy.ndarray
        Good pixel values (1-D).
    stat : {"median", "midpt", "mean", "mode"}
        The statistic.
    nclip : int
        Clipping iterations.
    lsigma, usigma : float
        Lower and upper clipping limits, in standard deviations.

    Returns
    -------
    float
        NaN when no value is left.
    """
    v = values[np.isfinite(values)]
    for _ in range(nclip):
        if v.size < 3:
            break
        centre, sigma = np.median(v), np.std(v)
        keep = (v >= centre - lsigma * sigma) & (v <= centre + usigma * sigma)
        if keep.all():
            break
        v = v[keep]
    if v.size == 0:
        return float("nan")
    if stat == "mean":
        return float(np.mean(v))
    if stat == "mode":
        return float(3.0 * np.median(v) - 2.0 * np.mean(v))
    return float(np.median(v))


class SkyMatchStep(Step):
    """Measure each exposure's sky and record (or subtract) it."""

    class_alias = "skymatch"
    legacy_class_paths = ("jwst.skymatch.skymatch_step.SkyMatchStep",)
    spec = """
        skymethod = option('local', 'global', 'match', 'global+match', 'user', default='match') # sky computation method
        match_down = boolean(default=True) # adjust sky to lowest measured value?
        subtract = boolean(default=False) # subtract computed sky from image data?
        skylist = string(default=None) # Filename pointing to list of (imagename skyval) pairs
        stepsize = integer(default=None) # Max vertex separation
        skystat = option('median', 'midpt', 'mean', 'mode', default='mode') # sky statistics
        dqbits = string(default='~DO_NOT_USE+NON_SCIENCE') # "good" DQ bits
        lower = float(default=None) # Lower limit of "good" pixel values
        upper = float(default=None) # Upper limit of "good" pixel values
        nclip = integer(min=0, default=5) # number of sky clipping iterations
        lsigma = float(min=0.0, default=4.0) # Lower clipping limit, in sigma
        usigma = float(min=0.0, default=4.0) # Upper clipping limit, in sigma
        binwidth = float(min=0.0, default=0.1) # Bin width for 'mode' and 'midpt' `skystat`, in sigma
        in_memory = boolean(default=True) # If False, preserve memory using temporary files
    """

    def process(self, step_input: Any) -> Any:
        """Compute the sky of every exposure.

        Parameters
        ----------
        step_input : ModelLibrary, association file or list of images
            Calibrated images.

        Returns
        -------
        ModelLibrary
            With ``meta.background`` set.
        """
        library = as_library(step_input, on_disk=not self.in_memory)
        if self.skymethod == "user":
            skies = self._user_skies(library)
        else:
            local = [self._measure(model) for _, model in library.models(modify=False)]
            lowest = np.nanmin(local) if np.isfinite(local).any() else 0.0
            if self.skymethod == "local":
                skies = local
            elif self.skymethod == "global":
                skies = [lowest] * len(local)
            else:
                anchor = lowest if self.match_down else np.nanmax(local)
                skies = [s - anchor for s in local]
                if self.skymethod == "global+match":
                    skies = [s + anchor for s in skies]
        for index, model in library.models():
            level = float(np.nan_to_num(skies[index]))
            self.log.info("%s: sky %.6g", model.meta.filename, level)
            if self.subtract:
                model.data = (np.asarray(model.data) - level).astype(np.float32)
            model.meta.background.level = level
            model.meta.background.subtracted = bool(self.subtract)
            model.meta.background.method = self.skymethod
            model.meta.cal_step.skymatch = "COMPLETE"
        return library

    def _bad_bits(self) -> int:
        text = (self.dqbits or "").strip()
        if not text or text.upper() == "NONE":
            return 0
        inverted = text.startswith("~")
        names = text.lstrip("~").replace(",", "+").split("+")
        try:
            bits = sum(int(n) if n.strip().isdigit() else PIXEL[n.strip().upper()] for n in names if n.strip())
        except KeyError as error:
            raise ParameterError(
                f"step '{self.name}': dqbits = {self.dqbits!r} names an unknown DQ flag {error}; give "
                "flag names joined by '+' (e.g. '~DO_NOT_USE+NON_SCIENCE') or an integer."
            ) from None
        return bits if inverted else ~bits & 0xFFFFFFFF

    def _measure(self, model: Any) -> float:
        data = np.asarray(model.data, np.float64)
        good = (np.asarray(model.dq) & np.uint32(self._bad_bits())) == 0
        good &= np.isfinite(data)
        if self.lower is not None:
            good &= data >= self.lower
        if self.upper is not None:
            good &= data <= self.upper
        return sky_statistic(data[good], self.skystat, self.nclip, self.lsigma, self.usigma)

    def _user_skies(self, library: Any) -> list[float]:
        if not self.skylist:
            raise ParameterError(
                f"step '{self.name}': skymethod = 'user' needs skylist, a file of 'imagename skyvalue' "
                "lines; give skylist or another skymethod."
            )
        values: dict[str, float] = {}
        with open(self.skylist, encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and not line.startswith("#"):
                    values[parts[0]] = float(parts[1])
        skies = []
        for _, model in library.models(modify=False):
            name = str(model.meta.filename)
            if name not in values:
                raise ParameterError(
                    f"step '{self.name}': skylist {self.skylist!r} has no value for {name!r}; add a "
                    f"line '{name} <sky>'."
                )
            skies.append(values[name])
        return skies
