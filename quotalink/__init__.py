"""QuotaLink: cross-cutting pieces shared by every package (settings, errors, privacy)."""
