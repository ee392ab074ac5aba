"""Product naming and atomic file writes.

Products are named the way the JWST pipeline names them: the input's own suffix
(``uncal``, ``rate``, ``ramp``, a step's alias, ...) is replaced by the suffix of the
step that made the product, so ``jw01_nrca1_uncal.fits`` becomes ``jw01_nrca1_rate.fits``.
Every file is written through :func:`atomic_write`: a crash while writing leaves the
previous file (or nothing) in place, never a partial file. The temporary file it
writes first is hidden and names the process writing it
(``.<name>.<host>-<pid>.<random>.tmp<ext>``): :func:`is_temporary_file` tells readers
it is not a product, and :func:`remove_stale_temporaries` deletes those whose process
has died (a run killed while saving). :func:`prepare_output_dir` creates and checks a
product folder before any work, and :func:`same_file` tells whether a product would
replace a given file.

Why one module of this size: it is the one concept "where a product goes on disk":
its name, its folder, and the way it gets there (the temporary file, its cleanup);
it sits on the lowest layers so that data models, parameter files and batches
share it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from collections.abc import Iterable, Iterator

from pipeline_core.errors import ParameterError

__all__ = [
    "DEFAULT_SUFFIXES",
    "atomic_write",
    "is_temporary_file",
    "make_output_path",
    "prepare_output_dir",
    "remove_stale_temporaries",
    "remove_suffix",
    "same_file",
    "split_ext",
]

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
    create_dir: bool = True,
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
    create_dir : bool, optional
        Create ``output_dir`` when it is missing (default). False only names the
        path (to check it before any work, see :func:`prepare_output_dir`).

    Returns
    -------
    str
        The product's path.

    Raises
    ------
    ValueError
        If neither an input name nor ``output_file`` is given.
    ParameterError
        If ``suffix`` or ``ext`` holds a path separator: the product
        would land outside its folder. (Whenever ``output_dir`` is given, the
        folders of the input and of ``output_file`` are dropped, so a product
        always stays in ``output_dir``.)

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
    _check_plain("suffix", suffix, "a plain word such as 'rate'", directory)
    _check_plain("output_ext", ext, "'.fits' or '.asdf'", directory)
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
        if create_dir:
            os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, name)
    return name


def _check_plain(what: str, value: str | None, accepted: str, directory: str) -> None:
    """Refuse a part of a product name that would move the product out of its folder."""
    if not value:
        return
    if any(sep in value for sep in ("/", os.sep, os.altsep or "/", "\0")):
        folder = os.path.abspath(directory or os.curdir)
        raise ParameterError(
            f"{what} = {value!r} would put the product outside its folder {folder!r} (it "
            f"holds a path separator); accepted: {accepted}. Choose the folder with "
            "output_dir instead"
        )


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
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.{_owner()}.", suffix=f".tmp{ext}", dir=folder)
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


# ----------------------------------------------------------------------------- temporaries

#: A temporary file of :func:`atomic_write`: ``.<name>.[<host>-<pid>.]<random>.tmp<ext>``
#: (files written before the owner was recorded have no ``<host>-<pid>`` part).
_TEMPORARY = re.compile(
    r"^\.(?P<stem>.+?)\.(?:(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.)?"
    r"(?P<random>[a-z0-9_]{8})\.tmp(?P<ext>(?:\.[A-Za-z0-9]+)*)$"
)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _owner() -> str:
    """``<host>-<pid>``: who writes a temporary file (read back by :func:`remove_stale_temporaries`)."""
    return f"{_host()}-{os.getpid()}"


def is_temporary_file(path: str | os.PathLike[str]) -> bool:
    """Tell whether a path is a temporary file of :func:`atomic_write`, not a product.

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path.

    Returns
    -------
    bool
        True for hidden names of the form ``.<name>.<host>-<pid>.<random>.tmp<ext>``
        (or ``.<name>.<random>.tmp<ext>``): the file being written, or left
        behind by a process killed while saving.

    Examples
    --------
    >>> is_temporary_file("out/.jw01_rate.node1-4242.k3j_x9a2.tmp.fits")
    True
    >>> is_temporary_file("out/jw01_rate.fits")
    False
    """
    return _TEMPORARY.match(os.path.basename(os.fspath(path))) is not None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[str]:
    """Delete the temporary files that dead processes of this host left in a folder.

    A process killed while :func:`atomic_write` was writing leaves its hidden
    temporary file behind. One whose process (named in the file name) no longer
    runs on this host is deleted; files of live processes, of other hosts (a
    shared folder) and of unknown owners are left alone.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to clean; a missing folder has nothing to clean.

    Returns
    -------
    list of str
        The paths deleted.
    """
    folder = os.fspath(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    host = _host()
    removed = []
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or match["pid"] is None or match["host"] != host:
            continue
        if int(match["pid"]) == os.getpid() or _process_alive(int(match["pid"])):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            removed.append(path)
    return removed


# ----------------------------------------------------------------------------- folders


def prepare_output_dir(
    output_dir: str | os.PathLike[str] | None, *, owner: str, option: str = "output_dir (--output-dir)"
) -> str:
    """Create a product folder if missing and check that files can be written in it.

    Parameters
    ----------
    output_dir : str, os.PathLike or None
        The folder; None or ``""`` means the current working directory.
    owner : str
        Who asks (``"step 'jump'"``, ``"steppe batch"``), to start the message.
    option : str, optional
        How the user sets the folder, named in the remedy.

    Returns
    -------
    str
        The folder (the current directory for None).

    Raises
    ------
    ParameterError
        If the path names a file, cannot be created, or is not writable. The
        message names the folder and what to do.
    """
    given = os.fspath(output_dir) if output_dir else ""
    folder = given or os.getcwd()
    label = f"output folder {given!r}" if given else f"the current folder {folder!r} (no output_dir given)"
    remedy = f"choose another folder with {option}"
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ParameterError(
            f"{owner}: {label} is a file, not a folder; {remedy}, or move the file away"
        )
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ParameterError(
            f"{owner}: {label} cannot be created ({exc.strerror or exc}); {remedy}"
        ) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".steppe-write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(
            f"{owner}: {label} is not writable ({exc.strerror or exc}); {remedy}, or make it "
            "writable"
        ) from None
    return folder


def same_file(product: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    """Tell whether writing ``product`` would replace the existing file ``other``.

    Parameters
    ----------
    product : str or os.PathLike
        A product's path.
    other : str or os.PathLike
        A file (an input, a reference file).

    Returns
    -------
    bool
        True when both name the same existing file (through links or relative
        paths too).
    """
    try:
        return os.path.samefile(product, other)
    except OSError:
        return False
