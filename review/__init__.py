"""The auditors' review console: work the flags, record decisions (append-only)."""
