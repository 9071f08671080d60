"""The user's tasks: validation and data access."""
