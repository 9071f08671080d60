"""The drain's signal hooks: chained onto the server's, and put back at shutdown."""

from __future__ import annotations

import signal

from taskchat.app import create_app
from taskchat.config import Settings


async def test_the_app_puts_the_previous_signal_handlers_back(settings: Settings) -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # Served from this (main) thread: the hooks are in place while the app runs.
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    after = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    assert after == before
