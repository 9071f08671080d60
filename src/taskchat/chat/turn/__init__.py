"""One answering turn: the agent run (`run.py`), its history as model input (`history.py`),
its events (`events.py`), what its tools show (`hooks.py`), and a retried answer (`retries.py`)."""
