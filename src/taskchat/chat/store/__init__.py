"""The ChatKit store in PostgreSQL: threads and their items (`postgres.py`), their keyset
pages (`keyset.py`), and attachments (`attachments.py`), every query scoped to its user."""
