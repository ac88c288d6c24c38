"""Extract from the source systems and land untouched, typed data in the raw zone."""
