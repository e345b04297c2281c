"""Entity resolution: standardise mentions, link them with Splink, publish golden records."""
