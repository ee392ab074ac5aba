"""Shared set-up of the bridge tests: a fresh shared registry around each test."""

from __future__ import annotations

import pytest

from tests.bridge._offline import offline  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def _fresh_registry():
    from pipeline_core.plugins.manager import reset_registry

    reset_registry()
    yield
    reset_registry()
