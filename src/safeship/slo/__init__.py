"""Service level objectives: definitions, error budgets, burn rates and alerting rules."""
