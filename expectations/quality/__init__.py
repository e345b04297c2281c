"""Data-quality suites: Great Expectations checks generated from the suite registry."""
