"""Fault suite: each fault of issue 12 against a clean run of one small generated province."""
