"""Source connectors: discover deliveries, land them raw with lineage, stage them typed."""
