"""OpenAPI 3.0/3.1 breaking-change detection: spec loading, the diff walk and the rule catalogue."""
