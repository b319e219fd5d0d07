"""Member data: record layouts, sources, checks, the initial state, experience analysis, synthetic
extracts (see docs/data.md)."""
