"""group_scale: rescale groups whose frame divisor differs from the frame count."""
