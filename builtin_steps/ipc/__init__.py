"""ipc: correct ramps for inter-pixel capacitance with the IPC deconvolution kernel."""

from builtin_steps.ipc.step import IPCStep

__all__ = ["IPCStep"]
