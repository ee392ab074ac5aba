"""dq_init: initialise the pixel data quality from the MASK reference file."""

from builtin_steps.dq_init.step import DQInitStep

__all__ = ["DQInitStep"]
