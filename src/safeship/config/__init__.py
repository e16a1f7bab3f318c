"""YAML configuration -> validated models, with every problem located at ``file:line:column``."""
