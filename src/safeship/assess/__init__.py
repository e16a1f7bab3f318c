"""The release-engineering maturity assessment (the guide's levels 0-4) of a repository."""
