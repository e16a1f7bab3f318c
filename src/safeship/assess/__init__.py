"""The release-engineering maturity assessment (the guide's levels 0-4) of a repository.

``collect.assess_repository`` gathers the evidence (one collector per concern: version control,
CI, delivery, gates, canary analysis, rollout history), ``levels.evaluate`` judges it against
the criteria of ``criteria`` (pure functions), and ``goal`` says which level the service's risk
asks for. ``summary`` turns the result into JSON data and plain lines for the CLI.
"""
