"""The pixel-by-pixel median of many images added one at a time, in memory or in files.

Outlier detection takes the median of the exposures resampled onto one grid.
In memory, the images are stacked in one array. On disk, each image is cut into
bands of rows and each band appended to its own file; the median is then taken
one band at a time, reading that band of every image. The memory used is then
about ``buffer_size`` bytes (by default the size of one image), however many
images there are. Both give the same values: NaN is ignored, and a pixel that
is NaN in every image is NaN.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings

import numpy as np

__all__ = ["MedianStack", "nan_median", "band_rows"]

#: Rows of the in-memory stack whose median is taken at once.
_ROWS_PER_BAND = 64


def nan_median(stack: np.ndarray) -> np.ndarray:
    """Median along the first axis, ignoring NaN (NaN where every value is NaN); float32.

    A 3-D stack is done a row at a time: ``numpy.nanmedian`` of a whole stack
    needs several times the stack's memory, of one row a fraction of it.
    """
    out = np.empty(stack.shape[1:], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if stack.ndim == 3:
            for row in range(stack.shape[1]):
                out[row] = np.nanmedian(stack[:, row], axis=0)
        else:
            out[...] = np.nanmedian(stack, axis=0)
    return out


def band_rows(count: int, shape: tuple[int, int], itemsize: int, buffer_size: int | None) -> int:
    """Rows per band so that one band of all ``count`` images fits in ``buffer_size`` bytes.

    Parameters
    ----------
    count : int
        Number of images.
    shape : (int, int)
        ``(ny, nx)`` of each image.
    itemsize : int
        Bytes per value.
    buffer_size : int or None
        Bytes; None or 0: the size of one image.

    Returns
    -------
    int
        At least 1, at most ``ny``.
    """
    ny, nx = shape
    budget = buffer_size or ny * nx * itemsize
    return int(min(ny, max(1, budget // max(1, count * nx * itemsize))))


class MedianStack:
    """Collect images and return their median.

    Parameters
    ----------
    count : int
        How many images will be added.
    shape : (int, int)
        ``(ny, nx)`` of every image.
    in_memory : bool
        Stack the images in memory (``count * ny * nx`` values); otherwise in
        files, a band of rows per file.
    folder : str, optional
        Where the files go (a temporary folder is made in it, and removed by
        :meth:`close`); default: the system's temporary folder.
    buffer_size : int, optional
        On disk: bytes of one band of all images (default: one image).

    Raises
    ------
    ValueError
        When ``count`` is below 1 or ``shape`` is not two positive sizes.
    """

    def __init__(self, count: int, shape: tuple[int, int], *, in_memory: bool, folder: str | None = None,
                 buffer_size: int | None = None) -> None:
        if count < 1 or len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"a median stack needs count >= 1 and a 2-D shape; got {count}, {shape}")
        self.count, self.shape = int(count), (int(shape[0]), int(shape[1]))
        self.in_memory = bool(in_memory)
        self.added = 0
        self._dtype = np.dtype(np.float32)
        self._stack: np.ndarray | None = None
        self._folder: str | None = None
        if self.in_memory:
            self._stack = np.empty((self.count, *self.shape), self._dtype)
            self.rows = _ROWS_PER_BAND
        else:
            self._folder = tempfile.mkdtemp(prefix="steppe-median-", dir=folder)
            self.rows = band_rows(self.count, self.shape, self._dtype.itemsize, buffer_size)

    @property
    def bands(self) -> list[tuple[int, int]]:
        """list of (int, int): first and last-plus-one row of each band."""
        ny = self.shape[0]
        return [(start, min(ny, start + self.rows)) for start in range(0, ny, self.rows)]

    def add(self, image: np.ndarray) -> None:
        """Add the next image.

        Parameters
        ----------
        image : numpy.ndarray
            ``shape``; converted to float32.

        Raises
        ------
        ValueError
            For another shape, or more images than ``count``.
        """
        if image.shape != self.shape:
            raise ValueError(f"image of shape {image.shape} added to a median stack of shape {self.shape}")
        if self.added >= self.count:
            raise ValueError(f"more than the {self.count} images announced added to a median stack")
        image = np.asarray(image, self._dtype)
        if self._stack is not None:
            self._stack[self.added] = image
        else:
            for index, (start, stop) in enumerate(self.bands):
                with open(self._band_path(index), "ab") as handle:
                    np.ascontiguousarray(image[start:stop]).tofile(handle)
        self.added += 1

    def median(self) -> np.ndarray:
        """Return the median of the images added (float32, NaN ignored).

        Raises
        ------
        ValueError
            When no image was added.
        """
        if self.added == 0:
            raise ValueError("the median of an empty stack was asked for")
        out = np.empty(self.shape, self._dtype)
        nx = self.shape[1]
        for index, (start, stop) in enumerate(self.bands):
            if self._stack is not None:
                band = self._stack[: self.added, start:stop]
            else:
                band = np.fromfile(self._band_path(index), dtype=self._dtype).reshape(self.added, stop - start, nx)
            out[start:stop] = nan_median(band)
            del band
        return out

    def close(self) -> None:
        """Free the stack and remove the files."""
        self._stack = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> MedianStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _band_path(self, index: int) -> str:
        assert self._folder is not None
        return os.path.join(self._folder, f"band{index:05d}.f32")
