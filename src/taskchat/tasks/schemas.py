"""Task schemas: what callers send, and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["low", "normal", "high"]
Status = Literal["open", "done", "all"]

TITLE_MAX = 200
NOTES_MAX = 2000


class TaskCreate(BaseModel):
    """A new task."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    notes: str = Field(default="", max_length=NOTES_MAX)
    priority: Priority = "normal"
    due_date: date | None = None


class TaskUpdate(BaseModel):
    """Changes to a task; fields left out stay as they are."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    priority: Priority | None = None
    due_date: date | None = None
    clear_due_date: bool = False


class TaskPublic(BaseModel):
    """A task as the API and the tools show it."""

    id: str
    title: str
    notes: str
    priority: Priority
    due_date: date | None
    done: bool
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    def summary(self) -> str:
        """One line for the model and for people: `[x] Title (due ..., high) id=...`."""
        parts = [f"[{'x' if self.done else ' '}] {self.title}"]
        extras = []
        if self.due_date:
            extras.append(f"due {self.due_date.isoformat()}")
        if self.priority != "normal":
            extras.append(f"{self.priority} priority")
        if extras:
            parts.append(f"({', '.join(extras)})")
        parts.append(f"id={self.id}")
        return " ".join(parts)
