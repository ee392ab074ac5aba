"""flat_field: divide an image by the flat-field response of its detector and filter."""

from builtin_steps.flat_field.step import FlatFieldStep

__all__ = ["FlatFieldStep"]
