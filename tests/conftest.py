"""Test configuration shared by the whole suite.

Fixtures live in ``tests/fixtures/<topic>.py``, one module per topic, and are
loaded here so that every test folder can use them.
"""

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.registry",
    "tests.fixtures.datamodels",
    "tests.fixtures.crds",
    "tests.fixtures.parallel",
    "tests.fixtures.ramps",
]
