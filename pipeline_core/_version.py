"""The installed version of steppe, read from the distribution's metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["steppe_version"]


def steppe_version() -> str:
    """Return the version of the installed ``steppe`` distribution.

    Returns
    -------
    str
        The version, or ``"0+unknown"`` when running from a source tree that was
        not installed.
    """
    try:
        return version("steppe")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
