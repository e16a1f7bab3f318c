"""Plumbing shared by every layer: durations, percents, HTTP and subprocess seams."""
