"""The root of Taskchat's own exceptions."""


class TaskchatError(Exception):
    """Base class of every error Taskchat raises on purpose."""
