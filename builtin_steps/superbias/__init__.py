"""superbias: subtract the superbias reference image from every group."""
