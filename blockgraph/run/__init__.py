"""Running a Scope: the one execution seam (`execute_block` and its wrappers), the executors,
sweeps and progress. Imports `core`, never `view` or `cli`."""
