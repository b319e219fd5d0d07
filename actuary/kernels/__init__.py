"""Numba kernels: contiguous float64 arrays in, preallocated arrays out, no Python objects."""
