"""Tool calls that wait for the person's confirmation: kept (`approvals.py`), shown as cards
(`cards.py`), and paused and resumed (`paused.py`)."""
