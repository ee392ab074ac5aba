"""gain_scale: rescale count rates taken with a non-standard gain setting."""
