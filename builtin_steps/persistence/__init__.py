"""persistence: flag groups within a time window of an earlier saturated or bright signal."""

from builtin_steps.persistence.step import PersistenceStep

__all__ = ["PersistenceStep"]
