"""refpix: remove bias drifts measured on the detector's reference pixels."""
