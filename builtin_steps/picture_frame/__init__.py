"""picture_frame: scale and subtract the NIRSpec thermal picture-frame pattern."""

from builtin_steps.picture_frame.step import PictureFrameStep

__all__ = ["PictureFrameStep"]
