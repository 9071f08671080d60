"""The chat layer: serving the ChatKit protocol over each user's own store.

- `server.py`: the ChatKit server, which dispatches each request the SDK hands it;
- `request.py`: a request parsed and checked before anything streams; `context.py`, what
  the checks read and what the request's type lets the turn skip;
- `admission.py`: the per-user chat limits, and a streamed request's admission under them;
- `failures.py`: what a failure means to the person (a status, or an error event);
- `turn/`: one answering turn (history, the agent run, its events, its tools' widgets);
- `store/`: the ChatKit store and attachment store in PostgreSQL;
- `confirmations/`: tool calls that wait for the person's answer;
- `widgets/`: tasks as widgets, and their buttons;
- `titles.py`, `feedback/`: names for new threads, and votes on answers.
"""
