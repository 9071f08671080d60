"""Taskchat: a self-hosted ChatKit task assistant."""
