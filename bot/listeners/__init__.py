"""Slack listeners, one module per surface."""
