"""resample: drizzle calibrated images onto an undistorted sky grid (``i2d`` products)."""

from builtin_steps.resample.step import ResampleStep

__all__ = ["ResampleStep"]
