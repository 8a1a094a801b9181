"""Log diagnostics: a realistic log generator, loaders for real files, and exact
analytics (top IPs per status, status distribution, error rate over time) computed
by RediSearch aggregations over the entries stored in the region's Redis."""
