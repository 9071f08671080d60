"""Attached files: which kinds are allowed and how they are recognised, where their bytes
are kept (a storage interface and its PostgreSQL backend), and the sweep of files never
sent in a message."""
