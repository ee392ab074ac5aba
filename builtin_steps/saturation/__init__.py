"""saturation: flag saturated groups and groups below the A/D floor."""
