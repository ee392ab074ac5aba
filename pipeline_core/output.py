"""Product naming and atomic file writes.

Products are named the way the JWST pipeline names them: the input's own suffix
(``uncal``, ``rate``, ``ramp``, a step's alias, ...) is replaced by the suffix of the
step that made the product, so ``jw01_nrca1_uncal.fits`` becomes ``jw01_nrca1_rate.fits``.
Every file is written through :func:`atomic_write`: a crash while writing leaves the
previous file (or nothing) in place, never a partial file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator

__all__ = ["DEFAULT_SUFFIXES", "atomic_write", "make_output_path", "remove_suffix", "split_ext"]

#: Suffixes of JWST data products. A step's alias is added to these at run time.
DEFAULT_SUFFIXES: frozenset[str] = frozenset(
    {
        "uncal", "ramp", "rate", "rateints", "trapsfilled", "fitopt", "dark",
        "cal", "calints", "bsub", "bsubints", "crf", "crfints", "i2d", "s2d",
        "s3d", "x1d", "x1dints", "c1d", "cat", "segm", "psfstack", "psfalign",
        "psfsub", "median", "whtlt", "phot", "wfscmb", "outlier_i2d", "blot",
        "flat", "ami", "amiavg", "aminorm", "cube", "step", "pipeline",
    }
)

_COMPRESSION_EXTS = (".gz", ".bz2", ".zip")


def split_ext(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Split a file name into its stem and its extension, keeping ``.fits.gz`` whole.

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path.

    Returns
    -------
    tuple of str
        ``(stem, ext)`` where ``ext`` may be empty.

    Examples
    --------
    >>> split_ext("dir/jw01_uncal.fits.gz")
    ('dir/jw01_uncal', '.fits.gz')
    """
    text = os.fspath(path)
    stem, ext = os.path.splitext(text)
    if ext.lower() in _COMPRESSION_EXTS:
        stem, inner = os.path.splitext(stem)
        ext = inner + ext
    return stem, ext


def remove_suffix(stem: str, known_suffixes: Iterable[str]) -> str:
    """Remove one known product suffix (``_uncal``, ``_rate``, ``_jump``, ...) from a stem.

    Parameters
    ----------
    stem : str
        A file name without its extension.
    known_suffixes : iterable of str
        The suffixes that may be removed. The longest one that matches wins, so
        ``x_rateints`` loses ``_rateints``, not ``_ints``.

    Returns
    -------
    str
        The stem without its suffix; unchanged when it ends in no known suffix.

    Examples
    --------
    >>> remove_suffix("jw01_nrca1_uncal", {"uncal", "rate"})
    'jw01_nrca1'
    """
    for suffix in sorted(set(known_suffixes), key=len, reverse=True):
        ending = "_" + suffix
        if suffix and stem.endswith(ending) and len(stem) > len(ending):
            return stem[: -len(ending)]
    return stem


def make_output_path(
    input_path_or_name: str | os.PathLike[str] | None,
    suffix: str | None,
    *,
    output_file: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    known_suffixes: Iterable[str] | None = None,
    ext: str | None = ".fits",
    index: int | None = None,
) -> str:
    """Build a product's path following the JWST naming rules.

    Parameters
    ----------
    input_path_or_name : str, os.PathLike or None
        The input's file name (or path). Its directory is ignored, its extension and
        its own known suffix are removed. Used when ``output_file`` is not given.
    suffix : str or None
        The product suffix appended as ``_<suffix>``; ``None`` or ``""`` appends none.
    output_file : str or os.PathLike, optional
        A base name for the product. Its extension and known suffix are removed and
        ``_<suffix>`` is appended. A directory in it is used when ``output_dir`` is
        not given.
    output_dir : str or os.PathLike, optional
        The folder to write to; created if missing. Default: the directory of
        ``output_file`` if it has one, else the current working directory.
    known_suffixes : iterable of str, optional
        Suffixes to strip from the base name, in addition to :data:`DEFAULT_SUFFIXES`
        and ``suffix`` itself.
    ext : str or None, optional
        The extension of the product (``".fits"`` or ``".asdf"``). ``None`` keeps the
        input's extension, or ``.fits`` when it has none.
    index : int, optional
        Appended as ``_<index>`` before the suffix, to name one of several products.

    Returns
    -------
    str
        The product's path.

    Raises
    ------
    ValueError
        If neither an input name nor ``output_file`` is given.

    Examples
    --------
    >>> make_output_path("raw/jw01_nrca1_uncal.fits", "rate")
    'jw01_nrca1_rate.fits'
    >>> make_output_path("jw01_nrca1_uncal.fits", "rate", output_file="mine.fits")
    'mine_rate.fits'
    """
    known = set(DEFAULT_SUFFIXES)
    if known_suffixes is not None:
        known.update(s for s in known_suffixes if s)
    if suffix:
        known.add(suffix)

    directory = os.fspath(output_dir) if output_dir else ""
    if output_file:
        source = os.fspath(output_file)
        if not directory:
            directory = os.path.dirname(source)
    elif input_path_or_name:
        source = os.fspath(input_path_or_name)
    else:
        raise ValueError(
            "cannot name the product: neither an input file name nor output_file is set; "
            "give output_file= or an input with a file name"
        )

    stem, input_ext = split_ext(os.path.basename(source))
    base = remove_suffix(stem, known)
    if ext is None:
        ext = input_ext or ".fits"
    elif ext and not ext.startswith("."):
        ext = "." + ext
    parts = [base]
    if index is not None:
        parts.append(str(index))
    if suffix:
        parts.append(suffix)
    name = "_".join(parts) + ext
    if directory:
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, name)
    return name


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[str]:
    """Write a file atomically.

    Yields the name of a temporary file in the same folder as ``path`` and with the
    same extension (so writers that pick a format from the extension still work).
    When the block succeeds, the temporary file is renamed onto ``path``
    (:func:`os.replace`, atomic on POSIX); when it raises, the temporary file is
    deleted and ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its folder must exist.

    Yields
    ------
    str
        The temporary path to write to. It does not exist when yielded.

    Raises
    ------
    FileNotFoundError
        If the block wrote nothing to the temporary path.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(target) as tmp:
    ...     with open(tmp, "w") as fh:
    ...         _ = fh.write("done")
    >>> open(target).read()
    'done'
    """
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    stem, ext = split_ext(os.path.basename(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=folder)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise FileNotFoundError(
                f"nothing was written to the temporary file {tmp!r} for {target!r}"
            )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
