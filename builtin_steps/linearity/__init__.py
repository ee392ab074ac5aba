"""linearity: correct the classic non-linearity of the detector response."""
