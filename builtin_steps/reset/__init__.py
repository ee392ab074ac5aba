"""reset: subtract the MIRI reset anomaly (RESET reference) from the first groups."""

from builtin_steps.reset.step import ResetStep

__all__ = ["ResetStep"]
