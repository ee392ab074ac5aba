"""lastframe: flag the last group of MIRI ramps DO_NOT_USE."""

from builtin_steps.lastframe.step import LastFrameStep

__all__ = ["LastFrameStep"]
