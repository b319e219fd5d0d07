"""Plain NumPy implementations of the kernels' equations (a loop over years, vectorised over
cells). Tests compare them with the kernels; benchmarks time the kernels against them."""
