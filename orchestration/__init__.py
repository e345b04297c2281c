"""Dagster wiring (assets, checks, schedules, sensors, resources) and the command line."""
