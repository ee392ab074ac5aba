"""What the source catalog takes from its references: apertures and the AB-Vega offset.

:func:`aperture_params` picks, in an ``apcorr`` table, the rows of an image's
configuration (``filter`` and ``pupil`` for NIRCam and NIRISS, ``filter`` and
``subarray`` for MIRI, every row for FGS) and of the three requested
encircled-energy percentages, and returns their radii and corrections and the
sky annulus, converted to the pixels of the resampled image (divided by its
``pixel_scale_ratio``). :func:`abvega_offset` picks the offset of the
configuration in an ``abvegaoffset`` table. Both raise :class:`MissingRows` when
the table has nothing for the configuration. :data:`FALLBACK` are the apertures
used without an ``apcorr`` reference. These are the rules of the JWST source
catalog. Nothing here knows about data models or files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ApertureParams", "FALLBACK", "MissingRows", "check_aperture_ee", "aperture_params", "abvega_offset"]


class MissingRows(LookupError):
    """A reference table has no row (or no single row) for the image's configuration."""


@dataclass(frozen=True)
class ApertureParams:
    """Aperture photometry settings, pixels of the image measured.

    Attributes
    ----------
    ee : tuple of int
        The encircled-energy percentages (column names ``aper<ee>_flux``).
    radii : tuple of float
        Their aperture radii.
    corrections : tuple of float
        Their aperture corrections (total flux over aperture flux).
    bkg_inner, bkg_outer : float
        The local-background annulus.
    """

    ee: tuple[int, ...]
    radii: tuple[float, ...]
    corrections: tuple[float, ...]
    bkg_inner: float
    bkg_outer: float

    def as_meta(self) -> dict[str, Any]:
        """The settings as the catalog's ``aperture_params`` metadata."""
        return {"aperture_ee": list(self.ee), "aperture_radii": list(self.radii),
                "aperture_corrections": list(self.corrections),
                "bkg_aperture_inner_radius": self.bkg_inner, "bkg_aperture_outer_radius": self.bkg_outer}


#: Apertures without an ``apcorr`` reference: radii 1, 2, 3 pixels, no correction.
FALLBACK = ApertureParams((1, 2, 3), (1.0, 2.0, 3.0), (1.0, 1.0, 1.0), 5.0, 10.0)

_SELECTORS = {"NIRCAM": ("filter", "pupil"), "NIRISS": ("filter", "pupil"), "MIRI": ("filter", "subarray"),
              "FGS": ()}


def check_aperture_ee(ee: tuple[int, ...]) -> str | None:
    """Return why three encircled-energy percentages are not accepted, or None.

    Parameters
    ----------
    ee : tuple of int
        ``aperture_ee1``, ``aperture_ee2``, ``aperture_ee3``.

    Returns
    -------
    str or None
    """
    values = np.asarray(ee, int)
    if len(values) != 3:
        return "three values are needed"
    if not np.all(values[1:] > values[:-1]):
        return "they must increase strictly"
    if np.any((values <= 0) | (values >= 100)):
        return "each must be between 0 and 100 (exclusive)"
    return None


def _column(table: Any, name: str) -> np.ndarray:
    values = np.asarray(table[name])
    if values.dtype.kind == "S":
        values = np.char.decode(values, "ascii")
    return np.char.upper(np.char.strip(values.astype(str)))


def _select(table: Any, keys: tuple[str, ...], config: dict[str, Any], what: str) -> Any:
    names = table.dtype.names if hasattr(table, "dtype") and table.dtype.names else table.colnames
    rows = np.ones(len(table), bool)
    for key in keys:
        if key not in names:
            raise MissingRows(f"the {what} table has no '{key}' column (columns: {', '.join(names)})")
        rows &= _column(table, key) == str(config.get(key) or "N/A").strip().upper()
    if not rows.any():
        wanted = ", ".join(f"{k}={config.get(k)}" for k in keys)
        raise MissingRows(f"the {what} table has no row for {wanted}")
    return table[rows]


def aperture_params(table: Any, instrument: str, config: dict[str, Any], ee: tuple[int, ...],
                    pixel_scale_ratio: float) -> ApertureParams:
    """Return the apertures an ``apcorr`` table gives for a configuration.

    Parameters
    ----------
    table : numpy structured array or astropy Table
        The ``APCORR`` table (``eefraction``, ``radius``, ``apcorr``, ``skyin``,
        ``skyout`` and the selector columns).
    instrument : str
        ``NIRCAM``, ``NIRISS``, ``MIRI`` or ``FGS``.
    config : dict
        ``filter``, ``pupil``, ``subarray`` of the image.
    ee : tuple of int
        The three encircled-energy percentages; each must match one row
        (``round(100 * eefraction)``).
    pixel_scale_ratio : float
        Resampled over native pixel scale; radii are divided by it.

    Returns
    -------
    ApertureParams

    Raises
    ------
    MissingRows
        No row for the configuration, no single row for a percentage, or more
        than one sky annulus.
    """
    keys = _SELECTORS.get(str(instrument).upper())
    if keys is None:
        raise MissingRows(f"instrument {instrument!r} has no imaging apertures (NIRCAM, NIRISS, MIRI, FGS)")
    rows = _select(table, keys, config, "APCORR")
    percent = np.round(np.asarray(rows["eefraction"], float) * 100.0)
    picked = []
    for value in ee:
        match = np.flatnonzero(percent == value)
        if len(match) != 1:
            found = "no row" if len(match) == 0 else f"{len(match)} rows"
            raise MissingRows(f"the APCORR table has {found} for the {value} % encircled energy "
                              f"(it has {sorted(set(percent.astype(int).tolist()))})")
        picked.append(rows[int(match[0])])
    sky_in = {float(r["skyin"]) for r in picked}
    sky_out = {float(r["skyout"]) for r in picked}
    if len(sky_in) != 1 or len(sky_out) != 1:
        raise MissingRows("the APCORR rows of one configuration give more than one sky annulus")
    ratio = float(pixel_scale_ratio)
    return ApertureParams(tuple(int(v) for v in ee), tuple(float(r["radius"]) / ratio for r in picked),
                          tuple(float(r["apcorr"]) for r in picked), sky_in.pop() / ratio, sky_out.pop() / ratio)


def abvega_offset(table: Any, instrument: str, config: dict[str, Any]) -> float:
    """Return the AB minus Vega magnitude an ``abvegaoffset`` table gives for a configuration.

    Parameters
    ----------
    table : astropy Table or numpy structured array
        The ``abvega_offset`` table.
    instrument : str
        ``NIRCAM``, ``NIRISS`` (by ``filter`` and ``pupil``), ``MIRI`` (``filter``)
        or ``FGS`` (``detector``).
    config : dict
        ``filter``, ``pupil``, ``detector`` of the image.

    Returns
    -------
    float

    Raises
    ------
    MissingRows
        No single row for the configuration.
    """
    keys = {"NIRCAM": ("filter", "pupil"), "NIRISS": ("filter", "pupil"), "MIRI": ("filter",),
            "FGS": ("detector",)}.get(str(instrument).upper())
    if keys is None:
        raise MissingRows(f"instrument {instrument!r} has no AB-Vega offsets (NIRCAM, NIRISS, MIRI, FGS)")
    rows = _select(table, keys, config, "ABVEGAOFFSET")
    if len(rows) > 1:
        raise MissingRows(f"the ABVEGAOFFSET table has {len(rows)} rows for this configuration")
    return float(np.asarray(rows["abvega_offset"])[0])
