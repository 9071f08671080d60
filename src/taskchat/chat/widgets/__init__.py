"""Tasks as ChatKit widgets (`tasks.py`), and what their buttons do (`actions.py`)."""
