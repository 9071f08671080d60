"""Every place Taskchat leans on an SDK's private parts, in this one package.

One module per SDK (`chatkit`, `agents`, `openai`, `mcp`), so importing one seam does not
import the other SDKs (the standalone `taskchat mcp` server needs only mcp); each says what
it replaces, why, and which benchmark measures it. `seams.py` installs them all at start-up,
or none with `SDK_SEAMS=off` (docs/sdk-seams.md). The rest of the code reaches SDK internals
only through here, and `tests/test_sdk.py` fails loudly when an upgrade changes what a seam
relies on: bump `WRITTEN_AGAINST` only after re-reading the seams against the new release.

Workarounds that use public APIs (the history converter, store ids for the provider's
fake message ids) stay next to the code they fix, with their upstream issue.
"""

from __future__ import annotations

WRITTEN_AGAINST = {
    "openai-chatkit": "1.6.5",
    "openai-agents": "0.25.0",
    "mcp": "2.3.0",
    "openai": "3.63.0",
}
"""The SDK versions these seams were checked against."""

__all__ = ["WRITTEN_AGAINST"]
