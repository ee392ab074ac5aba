"""photom: convert count rates to surface brightness (MJy/sr) with the photom table."""

from builtin_steps.photom.step import PhotomStep

__all__ = ["PhotomStep"]
