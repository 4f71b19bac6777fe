"""Persistence: tables, the database handle and queries."""
