"""firstframe: flag the first group of MIRI ramps DO_NOT_USE (deprecated in JWST)."""

from builtin_steps.firstframe.step import FirstFrameStep

__all__ = ["FirstFrameStep"]
