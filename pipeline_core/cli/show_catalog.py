"""Sources of a catalog on a quick-look picture (``steppe show --catalog``).

:func:`catalog_positions` reads a source catalog (the ``cat.ecsv`` of JWST's
``source_catalog`` step, or any table astropy reads) and returns the pixel
positions of its sources in the product drawn: through the product's WCS from
the sky positions (a ``sky_centroid`` column of sky coordinates, or
``sky_centroid_ra``/``sky_centroid_dec`` or ``ra``/``dec`` columns, in degrees unless
the column has a unit) when both exist, else from the ``xcentroid``/``ycentroid`` pixel columns
(0-based, the photutils convention). :func:`mark_sources` circles them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline_core.errors import DataModelError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["SOURCE_COLOUR", "CatalogPositions", "catalog_positions", "mark_sources"]

#: The colour of the circles around the catalog's sources (lime: absent from a grey scale).
SOURCE_COLOUR = "#00ff00"

_PIXEL_COLUMNS = ("xcentroid", "ycentroid")
_RA_COLUMNS = ("sky_centroid_ra", "ra", "ra_centroid")
_DEC_COLUMNS = ("sky_centroid_dec", "dec", "dec_centroid")
_ACCEPTED = ("an ECSV or FITS table with 'xcentroid'/'ycentroid' pixel columns, or sky "
             "positions ('sky_centroid', 'sky_centroid_ra'/'sky_centroid_dec' or 'ra'/'dec') "
             "and a product with a WCS")


@dataclass(frozen=True)
class CatalogPositions:
    """The pixel positions of a catalog's sources.

    Parameters
    ----------
    x, y : numpy.ndarray
        0-based pixel positions, one per catalog row (NaN where unknown).
    rows : int
        The number of rows of the catalog.
    columns : str
        Which columns gave the positions.
    """

    x: np.ndarray
    y: np.ndarray
    rows: int
    columns: str


def _column(table: Any, *names: str) -> Any | None:
    lower = {name.lower(): name for name in table.colnames}
    for name in names:
        if name in lower:
            return table[lower[name]]
    return None


def _read_table(path: str) -> Any:
    from astropy.table import Table

    if not os.path.isfile(path):
        raise DataModelError(f"steppe show --catalog: the catalog {path!r} does not exist; give {_ACCEPTED}")
    try:
        return Table.read(path, format="ascii.ecsv") if path.lower().endswith(".ecsv") else Table.read(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad catalog
        raise DataModelError(
            f"steppe show --catalog: cannot read {path!r} as a table ({type(exc).__name__}: {exc}); "
            f"give {_ACCEPTED}"
        ) from exc


def _sky_positions(table: Any) -> Any | None:
    import numpy as np
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    sky = _column(table, "sky_centroid")
    if isinstance(sky, SkyCoord):
        return sky
    ra = _column(table, *_RA_COLUMNS)
    dec = _column(table, *_DEC_COLUMNS)
    if ra is None or dec is None:
        return None

    def degrees(column: Any) -> Any:
        unit = getattr(column, "unit", None)
        return np.asarray(column, dtype=float) * (u.Unit(unit) if unit is not None else u.deg)

    return SkyCoord(ra=degrees(ra), dec=degrees(dec), frame="icrs")


def catalog_positions(path: str | os.PathLike[str], wcs: Any | None = None) -> CatalogPositions:
    """Return the pixel positions of a catalog's sources in a product.

    Parameters
    ----------
    path : str or os.PathLike
        The catalog: ECSV (``.ecsv``) or any table format astropy reads.
    wcs : object, optional
        The product's celestial WCS (gwcs or astropy), to place sky positions.

    Returns
    -------
    CatalogPositions

    Raises
    ------
    DataModelError
        If the file does not exist or is not a table, or it has neither pixel
        columns nor sky positions that the WCS can place (the message names the
        file, its columns and what is accepted).
    """
    import numpy as np

    text = os.fspath(path)
    table = _read_table(text)
    sky = _sky_positions(table) if wcs is not None else None
    if sky is not None:
        x, y = wcs.world_to_pixel(sky)
        columns = "sky positions through the WCS"
    else:
        x, y = (_column(table, name) for name in _PIXEL_COLUMNS)
        if x is None or y is None:
            found = ", ".join(table.colnames) or "none"
            why = ""
            if wcs is None and _column(table, "sky_centroid", *_RA_COLUMNS) is not None:
                why = " and the product has no WCS to place its sky positions"
            raise DataModelError(
                f"steppe show --catalog: {text!r} has no source positions (columns: {found}){why}; "
                f"give {_ACCEPTED}"
            )
        columns = "xcentroid/ycentroid"
    x = np.asarray(getattr(x, "value", x), dtype=float).reshape(-1)
    y = np.asarray(getattr(y, "value", y), dtype=float).reshape(-1)
    return CatalogPositions(x, y, len(table), columns)


def mark_sources(axes: Any, positions: CatalogPositions, shape: tuple[int, ...]) -> int:
    """Circle the sources that fall on the image.

    Parameters
    ----------
    axes : matplotlib Axes
        The picture's axes (pixel data coordinates, as ``imshow`` with
        ``origin="lower"`` sets them).
    positions : CatalogPositions
        The sources.
    shape : tuple of int
        The image's shape (rows, columns).

    Returns
    -------
    int
        How many sources were circled (finite positions on the image).
    """
    import numpy as np
    from matplotlib.collections import PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    ny, nx = shape[-2:]
    x, y = positions.x, positions.y
    inside = np.isfinite(x) & np.isfinite(y) & (x > -0.5) & (x < nx - 0.5) & (y > -0.5) & (y < ny - 0.5)
    radius = max(3.0, 0.02 * max(nx, ny))
    circles = [Circle((float(a), float(b)), radius) for a, b in zip(x[inside], y[inside])]
    axes.add_collection(PatchCollection(circles, facecolor="none", edgecolor=SOURCE_COLOUR, linewidth=0.9))
    count = int(inside.sum())
    axes.add_artist(axes.legend(
        handles=[Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
                        markeredgecolor=SOURCE_COLOUR, label=f"catalog ({count} of {positions.rows})")],
        loc="upper left", fontsize=8, framealpha=0.8,
    ))
    return count
