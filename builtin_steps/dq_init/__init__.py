"""dq_init: initialise the pixel data quality from the MASK reference file."""
