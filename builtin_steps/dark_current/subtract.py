"""Dark-current kernel: frame-average the dark to the science readout and subtract."""

from __future__ import annotations

import numpy as np

__all__ = ["frames_needed", "average_dark", "subtract_dark"]


def frames_needed(ngroups: int, nframes: int, groupgap: int) -> int:
    """Return the number of frames spanned by a readout.

    Parameters
    ----------
    ngroups, nframes, groupgap : int
        Readout parameters.

    Returns
    -------
    int
        ``ngroups * nframes + (ngroups - 1) * groupgap``.
    """
    return ngroups * nframes + (ngroups - 1) * groupgap


def average_dark(dark: np.ndarray, *, ngroups: int, nframes: int, groupgap: int) -> np.ndarray:
    """Average the dark's frames into groups that match the science readout.

    The dark is read with one frame per group; science group ``g`` uses dark
    frames ``g*(nframes+groupgap)`` to ``g*(nframes+groupgap)+nframes-1``.

    Parameters
    ----------
    dark : numpy.ndarray
        ``(..., nframes_dark, ny, nx)`` dark ramp (a leading integration axis
        is allowed).
    ngroups, nframes, groupgap : int
        Science readout parameters.

    Returns
    -------
    numpy.ndarray
        ``(..., ngroups, ny, nx)`` float32 dark, NaN replaced by 0. A view of
        ``dark`` when no averaging is needed and it holds no NaN (``dark``
        itself is never modified).
    """
    step = nframes + groupgap
    if nframes == 1 and groupgap == 0:
        out = dark[..., :ngroups, :, :]
    elif nframes == 1:
        out = dark[..., 0 : (ngroups - 1) * step + 1 : step, :, :]
    else:
        shape = dark.shape[:-3] + (ngroups,) + dark.shape[-2:]
        out = np.empty(shape, dtype=np.float32)
        for g in range(ngroups):
            start = g * step
            stop = min(start + nframes, dark.shape[-3])
            out[..., g, :, :] = dark[..., start:stop, :, :].mean(axis=-3, dtype=np.float64)
    if out.dtype != np.float32:
        out = out.astype(np.float32)
    copied = False
    for index in np.ndindex(out.shape[:-2]):
        # plane by plane: no full-cube temporaries
        nan = np.isnan(out[index])
        if nan.any():
            if not copied:
                out, copied = out.copy(), True
            out[index][nan] = 0.0
    return out


def subtract_dark(
    data: np.ndarray,
    pixeldq: np.ndarray,
    dark: np.ndarray,
    dark_dq: np.ndarray | None = None,
) -> None:
    """Subtract a matched dark from every integration, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp; modified in place.
    pixeldq : numpy.ndarray
        ``(ny, nx)``; the dark's DQ is ORed in place.
    dark : numpy.ndarray
        ``(ngroups, ny, nx)`` or ``(nints_dark, ngroups, ny, nx)`` from
        :func:`average_dark`; with an integration axis, science integrations
        beyond the dark's last use the last one.
    dark_dq : numpy.ndarray, optional
        DQ of the dark (2-D; a leading axis is ORed together).
    """
    if dark.ndim == 3:
        np.subtract(data, dark, out=data)
    else:
        for i in range(data.shape[0]):
            np.subtract(data[i], dark[min(i, dark.shape[0] - 1)], out=data[i])
    if dark_dq is not None:
        dq = np.asarray(dark_dq)
        while dq.ndim > 2:
            dq = np.bitwise_or.reduce(dq, axis=0)
        np.bitwise_or(pixeldq, dq.astype(pixeldq.dtype, copy=False), out=pixeldq)
