"""The self-contained demo: a sample service, a tiny error-budget endpoint, and the script."""
