"""The supervised family's accelerator: a fused NumPy (and numba) step for plain MLPs
on the CPU, each part a twin of its torch counterpart."""
