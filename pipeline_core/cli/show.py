"""``steppe show``: a quick-look picture of a product.

``steppe show PRODUCT.fits [-o OUT.png] [--open]`` writes a PNG of one image of the
product, scaled the way astronomers look at raw frames: the limits come from the
zscale algorithm and the grey levels follow an asinh stretch
(:mod:`astropy.visualization`). Pixels flagged ``DO_NOT_USE`` are painted in
:data:`BAD_PIXEL_COLOUR`; ``--catalog CAT.ecsv`` circles the sources of a catalog
(:mod:`pipeline_core.cli.show_catalog`). Which image is shown:

* an image (``rate``, ``cal``, ``i2d``): the image;
* a cube (``rateints``, ``calints``): its first plane;
* a ramp (``uncal``, ``ramp``): the last group of the first integration, and the
  union of its pixel and group flags.

The axes are celestial coordinates when the product has a usable WCS (a gwcs
object in ``meta.wcs``, or celestial WCS keywords in the ``SCI`` header), pixel
numbers otherwise. The picture is drawn with matplotlib's Agg canvas, without
pyplot, so nothing global (backend, open figures) is changed, and written
atomically. ``--open`` hands it to the system's picture viewer, when there is one.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from pipeline_core.cli.viewer import open_picture
from pipeline_core.errors import DataModelError, SteppeError
from pipeline_core.output import atomic_write, split_ext

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "BAD_PIXEL_COLOUR",
    "QuickLook",
    "add_show_subparser",
    "celestial_wcs",
    "default_picture_path",
    "open_picture",
    "quicklook_plane",
    "render_quicklook",
    "run_show",
]

#: The colour of ``DO_NOT_USE`` pixels in the picture (magenta: absent from a grey scale).
BAD_PIXEL_COLOUR = "#ff00ff"

_DO_NOT_USE = 1  # bit 0 of the JWST DQ flags, in pixel and group flags alike


@dataclass(frozen=True)
class QuickLook:
    """What :func:`render_quicklook` drew.

    Parameters
    ----------
    path : str
        The PNG written.
    plane : str
        Which image of the product is shown (``"image"``, ``"integration 1 of 2"``,
        ``"integration 1, group 10 of 10"``).
    shape : tuple of int
        The shape of the image shown.
    bad_pixels : int
        How many pixels are flagged ``DO_NOT_USE`` (painted in
        :data:`BAD_PIXEL_COLOUR`).
    limits : tuple of float
        The zscale limits of the grey scale.
    wcs : bool
        True when the axes are celestial coordinates.
    sources : int
        How many catalog sources are circled (0 without a catalog).
    catalog_rows : int
        How many rows the catalog has (0 without a catalog).
    """

    path: str
    plane: str
    shape: tuple[int, ...]
    bad_pixels: int
    limits: tuple[float, float]
    wcs: bool
    sources: int = 0
    catalog_rows: int = 0


def _array_names(model: Any) -> set[str]:
    return {spec.name for spec in getattr(model, "arrays", ())}


def quicklook_plane(model: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Pick the image to show from a product, and its ``DO_NOT_USE`` pixels.

    Parameters
    ----------
    model : DataModel
        A product (opened with ``open_model(path, lazy=True)``, only the image
        shown is read).

    Returns
    -------
    image : numpy.ndarray
        2-D float array.
    bad : numpy.ndarray
        2-D boolean array: True where the pixel is flagged ``DO_NOT_USE``.
    plane : str
        Which image it is.

    Raises
    ------
    DataModelError
        If the product has no 2-, 3- or 4-D science array.
    """
    import numpy as np

    names = _array_names(model)
    primary = getattr(type(model), "primary", "data")
    source = getattr(model, "source_path", None) or type(model).__name__
    shape = tuple(model.shape or ()) if hasattr(model, "shape") else ()
    if primary not in names or len(shape) not in (2, 3, 4):
        raise DataModelError(
            f"cannot show {source!r}: it has no 2-, 3- or 4-D science array (its "
            f"{primary!r} array has shape {shape or None}); steppe show takes a ramp "
            "(uncal, ramp), an image (rate, cal, i2d) or a cube (rateints, calints)"
        )
    if len(shape) == 4:
        key: tuple[int, ...] = (0, shape[1] - 1)
        plane = f"integration 1, group {shape[1]} of {shape[1]}"
        dq = np.zeros(shape[-2:], dtype=np.uint32)
        if "pixeldq" in names and model.pixeldq is not None:
            dq |= np.asarray(model.pixeldq, dtype=np.uint32)
        if "groupdq" in names:
            dq |= model.read_section("groupdq", key).astype(np.uint32)
    elif len(shape) == 3:
        key = (0,)
        plane = f"integration 1 of {shape[0]}"
        dq = model.read_section("dq", key) if "dq" in names else None
    else:
        key = ()
        plane = "image"
        dq = model.dq if "dq" in names else None
    image = np.asarray(model.read_section(primary, key) if key else getattr(model, primary), dtype=float)
    if dq is None:
        bad = np.zeros(image.shape, dtype=bool)
    else:
        bad = (np.asarray(dq).astype(np.uint32) & _DO_NOT_USE) != 0
    return image, bad, plane


def celestial_wcs(path: str | os.PathLike[str], model: Any) -> Any | None:
    """Return a usable celestial WCS of a product, or None.

    Parameters
    ----------
    path : str or os.PathLike
        The product's file (its ``SCI`` header is read for FITS files).
    model : DataModel
        The product (``meta.wcs`` is used when it is a 2-D gwcs-like object).

    Returns
    -------
    object or None
        A WCS that matplotlib's ``projection=`` accepts, or None when the product
        has none (for instance a ``rate`` file before ``assign_wcs``).
    """
    meta_wcs = getattr(getattr(model, "meta", None), "wcs", None)
    if getattr(meta_wcs, "pixel_n_dim", None) == 2 and hasattr(meta_wcs, "pixel_to_world"):
        return meta_wcs
    text = os.fspath(path)
    if split_ext(text)[1].lower().startswith(".asdf"):
        return None
    import warnings

    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    try:
        header = fits.getheader(text, "SCI")
    except (OSError, KeyError):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header)
        except Exception:  # noqa: BLE001 - a broken WCS falls back to pixel axes
            return None
    if not wcs.has_celestial:
        return None
    celestial = wcs.celestial
    return celestial if celestial.pixel_n_dim == 2 else None


def default_picture_path(product: str | os.PathLike[str]) -> str:
    """Return the picture's default path: the product's, with ``.png``.

    Parameters
    ----------
    product : str or os.PathLike
        The product's file.

    Returns
    -------
    str
        ``out/jw01_nrca1_rate.fits`` gives ``out/jw01_nrca1_rate.png``.
    """
    stem, _ = split_ext(os.fspath(product))
    return stem + ".png"


def render_quicklook(
    product: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *,
    catalog: str | os.PathLike[str] | None = None,
) -> QuickLook:
    """Write the quick-look PNG of a product.

    Parameters
    ----------
    product : str or os.PathLike
        A FITS or ASDF product.
    output : str or os.PathLike, optional
        The PNG to write; default :func:`default_picture_path`.
    catalog : str or os.PathLike, optional
        A source catalog whose sources are circled
        (:func:`~pipeline_core.cli.show_catalog.catalog_positions`).

    Returns
    -------
    QuickLook
        What was drawn, and where.

    Raises
    ------
    DataModelError
        If the product cannot be opened or has no image, or the catalog cannot
        be read or has no source positions.
    SteppeError
        If the picture cannot be written (the message names the path and the
        system's reason).
    """
    import numpy as np
    from astropy.visualization import AsinhStretch, ImageNormalize, ZScaleInterval
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from pipeline_core.cli.show_catalog import catalog_positions, mark_sources
    from pipeline_core.datamodels import open_model

    text = os.fspath(product)
    target = os.fspath(output) if output is not None else default_picture_path(text)
    with open_model(text, lazy=True) as model:
        image, bad, plane = quicklook_plane(model)
        wcs = celestial_wcs(text, model)
        unit = getattr(model.meta, "bunit_data", None)
        positions = catalog_positions(catalog, wcs) if catalog is not None else None
    good = np.isfinite(image) & ~bad
    if good.any():
        vmin, vmax = (float(v) for v in ZScaleInterval().get_limits(image[good]))
    else:
        vmin, vmax = 0.0, 1.0
    if not vmax > vmin:
        vmax = vmin + 1.0
    norm = ImageNormalize(vmin=vmin, vmax=vmax, stretch=AsinhStretch())

    figure = Figure(figsize=(6.4, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(projection=wcs) if wcs is not None else figure.add_subplot()
    shown = axes.imshow(
        np.where(good, image, np.nan), origin="lower", cmap="gray", norm=norm,
        interpolation="nearest",
    )
    axes.imshow(
        np.ma.masked_where(~bad, np.ones(image.shape)), origin="lower",
        cmap=ListedColormap([BAD_PIXEL_COLOUR]), vmin=0.0, vmax=1.0, interpolation="nearest",
    )
    if wcs is not None:
        axes.set_xlabel("Right ascension")
        axes.set_ylabel("Declination")
    else:
        axes.set_xlabel("x (pixel)")
        axes.set_ylabel("y (pixel)")
    scale = "zscale, asinh stretch"
    figure.colorbar(shown, ax=axes, label=f"{unit} ({scale})" if isinstance(unit, str) and unit else scale)
    axes.set_title(f"{os.path.basename(text)}\n{plane}", fontsize=10)
    sources = mark_sources(axes, positions, image.shape) if positions is not None else 0
    axes.legend(
        handles=[Patch(color=BAD_PIXEL_COLOUR, label=f"DO_NOT_USE ({int(bad.sum())} px)")],
        loc="upper right", fontsize=8, framealpha=0.8,
    )
    try:
        folder = os.path.dirname(os.path.abspath(target))
        with atomic_write(target) as tmp:
            figure.savefig(tmp, format="png")
    except OSError as exc:
        raise SteppeError(
            f"cannot write the picture {target!r}: {exc.strerror or exc}; choose another "
            f"file with -o, or make the folder {folder!r} writable"
        ) from exc
    return QuickLook(
        path=target, plane=plane, shape=tuple(image.shape), bad_pixels=int(bad.sum()),
        limits=(vmin, vmax), wcs=wcs is not None, sources=sources,
        catalog_rows=positions.rows if positions is not None else 0,
    )


def add_show_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Define ``steppe show``.

    Parameters
    ----------
    subparsers : argparse subparsers action
        The ``steppe`` command's subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "show",
        help="write a quick-look PNG of a product",
        description=(
            "Write a PNG of a product: zscale limits, asinh stretch, DO_NOT_USE pixels in "
            "magenta, sky coordinates when the product has a WCS, the sources of a catalog "
            "circled with --catalog. A ramp shows the last group of its first integration, "
            "a cube its first plane."
        ),
        allow_abbrev=False,
    )
    parser.add_argument("product", metavar="PRODUCT", help="a FITS or ASDF product")
    parser.add_argument(
        "-o", "--output", metavar="OUT.png",
        help="the picture to write (default: the product's name with .png)",
    )
    parser.add_argument(
        "--open", dest="open_viewer", action="store_true",
        help="open the picture with the system's viewer",
    )
    parser.add_argument(
        "--catalog", metavar="CAT.ecsv",
        help="circle the sources of this catalog (xcentroid/ycentroid, or sky_centroid with a WCS)",
    )
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    return parser


def run_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``steppe show``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (``product``, ``output``, ``open_viewer``, ``catalog``).
    out, err : text stream
        Where to write.

    Returns
    -------
    int
        0.
    """
    catalog = getattr(args, "catalog", None)
    picture = render_quicklook(args.product, args.output, catalog=catalog)
    axes = "sky coordinates" if picture.wcs else "pixel axes (no WCS)"
    marked = f", {picture.sources} of {picture.catalog_rows} catalog sources circled" if catalog else ""
    out.write(
        f"steppe show: wrote {picture.path} ({picture.plane}, "
        f"{picture.shape[-1]}x{picture.shape[-2]}, {axes}, "
        f"{picture.bad_pixels} DO_NOT_USE pixel(s){marked})\n"
    )
    if args.open_viewer:
        viewer = open_picture(picture.path)
        if viewer is None:
            err.write(
                f"steppe show: no picture viewer is available here (no display); open "
                f"{picture.path} yourself\n"
            )
        else:
            out.write(f"steppe show: opened {picture.path} with {viewer}\n")
    return 0
