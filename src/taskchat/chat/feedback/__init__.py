"""Votes on answers: kept and read back (`votes.py`), and exported for review (`export.py`)."""
