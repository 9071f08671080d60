"""The ASGI app for `uvicorn taskchat.asgi:app`."""

from taskchat.app import create_app

app = create_app()
