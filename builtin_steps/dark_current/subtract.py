"""Dark-current kernel: frame-average the dark to the science readout and subtract.

:func:`average_dark` and :func:`subtract_dark` work on whole cubes;
:func:`group_frames` and :func:`average_frames` do the same for one science
group at a time, so a step can read the dark frame by frame and subtract it
without holding the whole dark cube.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "frames_needed",
    "group_frames",
    "average_frames",
    "average_dark",
    "subtract_dark",
    "subtract_group",
    "or_dark_dq",
]


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


def group_frames(group: int, nframes: int, groupgap: int, available: int) -> slice:
    """Return the dark frames averaged into science group ``group``.

    Parameters
    ----------
    group : int
        Science group (0-based).
    nframes, groupgap : int
        Science readout parameters.
    available : int
        Number of frames in the dark (the range is clipped to it).

    Returns
    -------
    slice
        Frames ``group*(nframes+groupgap)`` to ``group*(nframes+groupgap)+nframes-1``.
    """
    start = group * (nframes + groupgap)
    return slice(start, min(start + nframes, available))


def average_frames(frames: np.ndarray) -> np.ndarray:
    """Average dark frames into one group plane, NaN replaced by 0.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(..., nframes, ny, nx)`` dark frames of one group (a leading
        integration axis is allowed).

    Returns
    -------
    numpy.ndarray
        ``(..., ny, nx)`` float32: the frame itself (a view) when there is one
        frame and no NaN, else a new array; the mean is taken in float64.
        ``frames`` is never modified.
    """
    if frames.shape[-3] == 1:
        out, fresh = frames[..., 0, :, :], False
    else:
        out, fresh = frames.mean(axis=-3, dtype=np.float64), True
    if out.dtype != np.float32:
        out, fresh = out.astype(np.float32), True
    nan = np.isnan(out)
    if nan.any():
        if not fresh:
            out = out.copy()
        out[nan] = 0.0
    return out


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
            frames = group_frames(g, nframes, groupgap, dark.shape[-3])
            out[..., g, :, :] = average_frames(dark[..., frames, :, :])
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
        or_dark_dq(pixeldq, dark_dq)


def subtract_group(
    data: np.ndarray, group: int, plane: np.ndarray, integrations: range | None = None
) -> None:
    """Subtract one matched dark plane from one group of the ramp, in place.

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ngroups, ny, nx)`` ramp; modified in place.
    group : int
        The group to correct.
    plane : numpy.ndarray
        ``(ny, nx)`` matched dark of that group (from :func:`average_frames`).
    integrations : range, optional
        The integrations to correct; default all.
    """
    ints = range(data.shape[0]) if integrations is None else integrations
    if len(ints) == data.shape[0]:
        target = data[:, group]
        np.subtract(target, plane, out=target)
        return
    for i in ints:
        np.subtract(data[i, group], plane, out=data[i, group])


def or_dark_dq(pixeldq: np.ndarray, dark_dq: np.ndarray) -> None:
    """OR the dark's DQ into the pixel DQ, in place.

    Parameters
    ----------
    pixeldq : numpy.ndarray
        ``(ny, nx)`` pixel DQ; modified in place.
    dark_dq : numpy.ndarray
        DQ of the dark (2-D; leading axes are ORed together first).
    """
    dq = np.asarray(dark_dq)
    while dq.ndim > 2:
        dq = np.bitwise_or.reduce(dq, axis=0)
    np.bitwise_or(pixeldq, dq.astype(pixeldq.dtype, copy=False), out=pixeldq)
