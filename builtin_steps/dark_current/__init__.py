"""dark_current: subtract the dark reference, averaged to the science readout."""
