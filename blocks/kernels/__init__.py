"""Numeric kernels shared by several blocks; they know numpy, not the registry."""
