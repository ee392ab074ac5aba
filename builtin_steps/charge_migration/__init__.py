"""charge_migration: flag groups affected by charge migration in bright pixels."""

from builtin_steps.charge_migration.step import ChargeMigrationStep

__all__ = ["ChargeMigrationStep"]
