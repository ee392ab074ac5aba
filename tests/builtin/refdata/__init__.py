"""Tests of the embedded reference set."""
