"""Which SDK seams a process runs with: all of them, installed from here, or none.

A seam swaps a piece of an SDK's own code path for a cheaper one that gives the same
answers; each module of this package says what it replaces, and which benchmark under
`bench/` measures what it saves (docs/sdk-seams.md lists them all). With `SDK_SEAMS=off`
none is installed or used, and every request runs on the SDKs' own code: CI runs the
backend suite that way too, so correctness never depends on a seam.

Two kinds of seam, switched together by that one setting:
- process-wide patches of an SDK module's attribute (`patches()`), installed by `install`;
- seams a component chooses when it is built (`Seams` says which), such as the tasks tools
  converted once per process or a new thread stored with its first message.

Not switched: the few uses of private SDK parts that correctness needs and for which no
SDK path exists (an in-process MCP session, a stream's failure told as an error event,
attachments claimed before a message is stored); docs/sdk-seams.md says why each stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from taskchat._sdk.patch import Patch
from taskchat.config import Settings

logger = logging.getLogger("taskchat")


def patches() -> list[Patch]:
    """Every process-wide patch (imports the SDKs they patch)."""
    from taskchat._sdk import agents, chatkit, openai

    return [*chatkit.patches(), *agents.patches(), *openai.patches()]


BUILT_IN = (
    "routed_tools",
    "new_thread_statement",
    "validated_events",
    "untraced_mcp",
    "parsed_once",
)
"""The seams components choose when they are built (see `Seams`)."""


@dataclass(frozen=True, slots=True)
class Seams:
    """Whether this process uses the SDK seams; the components built with it ask here."""

    on: bool = True
    """All seams (`SDK_SEAMS=on`, the default), or none: the SDKs' own code paths."""

    @classmethod
    def of(cls, settings: Settings) -> Seams:
        """The seams `SDK_SEAMS` asks for."""
        return cls(on=settings.sdk_seams == "on")

    @property
    def names(self) -> tuple[str, ...]:
        """The seams in use, process-wide patches first."""
        if not self.on:
            return ()
        return (*dict.fromkeys(patch.seam for patch in patches()), *BUILT_IN)


def install(seams: Seams, apply: Callable[[Patch], None] | None = None) -> None:
    """Install the process-wide patches if `seams` is on, and say in one line which seams
    the process uses. `apply` sets one patch (a test passes monkeypatch's, which undoes
    it); by default it stays for the life of the process. Installing twice changes
    nothing."""
    if seams.on:
        for patch in patches():
            if apply is not None:
                apply(patch)
            else:
                setattr(patch.module, patch.attribute, patch.replacement)
        logger.info("SDK seams on: %s", ", ".join(seams.names))
    else:
        logger.info("SDK seams off: running on the SDKs' own code paths")


__all__ = ["BUILT_IN", "Seams", "install", "patches"]
