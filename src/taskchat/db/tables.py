"""The database schema as SQLAlchemy `Table`s: what the migrations create, in one place.

Every user-owned table has `user_id` in its primary key, so one user's ids can never
collide with, or reveal, another's. Row-level security (see the migrations) is the
second wall behind the `WHERE user_id = ...` of every query. `tests/db` checks that
these tables and the migrations agree.

Who queries what, and how (docs/architecture.md, "Conventions"): the chat store
(`chat/store/postgres.py`) runs SQL text straight through asyncpg on the `chat_*` tables, because
every turn makes several of those queries (and `chat/feedback/votes.py` does the same on
`chat_feedback`, next to them); tasks and accounts query `TASKS` and `USERS`
with SQLAlchemy Core.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
"""The tables below; alembic compares the migrations against it."""

USER_OWNED_TABLES = (
    "chat_threads",
    "chat_items",
    "chat_attachments",
    "chat_attachment_files",
    "chat_turns",
    "chat_approvals",
    "chat_tool_calls",
    "chat_feedback",
    "tasks",
)
"""Tables under row-level security: each row belongs to the user in its `user_id`."""

CHAT_THREADS = Table(
    "chat_threads",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    # Breaks ties between equal `created_at` in keyset pages.
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The ChatKit thread's metadata, stored whole, so it round-trips exactly.
    Column("data", JSONB, nullable=False),
    Index("ix_chat_threads_user_created", "user_id", "created_at", "seq"),
)
"""A ChatKit thread's metadata."""

CHAT_ITEMS = Table(
    "chat_items",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("thread_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The ChatKit thread item, stored whole.
    Column("data", JSONB, nullable=False),
    ForeignKeyConstraint(
        ["user_id", "thread_id"],
        ["chat_threads.user_id", "chat_threads.id"],
        ondelete="CASCADE",
    ),
    Index("ix_chat_items_thread_created", "user_id", "thread_id", "created_at", "seq"),
)
"""A thread item (message, widget, hidden context...); it goes with its thread."""

CHAT_ATTACHMENTS = Table(
    "chat_attachments",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    # Set once the attachment is sent in a thread.
    Column("thread_id", Text, nullable=True),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_chat_attachments_thread", "user_id", "thread_id"),
    # The sweep's search: attachments never sent, oldest first (files/sweep.py).
    Index("ix_chat_attachments_unsent", "created_at", postgresql_where=text("thread_id IS NULL")),
)
"""Attachment metadata: the ChatKit attachment, stored whole."""

CHAT_ATTACHMENT_FILES = Table(
    "chat_attachment_files",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["user_id", "id"],
        ["chat_attachments.user_id", "chat_attachments.id"],
        ondelete="CASCADE",
    ),
)
"""An attachment's uploaded bytes (files/postgres.py); they go with their attachment."""

TASKS = Table(
    "tasks",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    Column("priority", Text, nullable=False, server_default="normal"),
    Column("due_date", Date, nullable=True),
    Column("done", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Index("ix_tasks_user_done_created", "user_id", "done", "created_at"),
)
"""A user's task, managed by the agent's task tools and shown in the tasks panel."""

CHAT_TURNS = Table(
    "chat_turns",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=False),
    Index("ix_chat_turns_user_started", "user_id", "started_at"),
)
"""A streamed chat request: counted for the per-user rate and open-stream limits
(chat/admission.py). `lease_until` frees the slot of a stream whose replica died."""

CHAT_APPROVALS = Table(
    "chat_approvals",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("thread_id", Text, nullable=False),
    # The paused calls as the card shows them: [{"tool": ..., "arguments": {...}}, ...].
    Column("calls", JSONB, nullable=False),
    # The Agents SDK's RunState, serialized: what a Delete or Keep resumes.
    Column("run_state", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "status IN ('pending', 'approved', 'declined')", name="ck_chat_approvals_status"
    ),
    Index("ix_chat_approvals_user_created", "user_id", "created_at"),
)
"""A tool call that waits for the person's Delete or Keep (chat/confirmations/approvals.py)."""

CHAT_TOOL_CALLS = Table(
    "chat_tool_calls",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("thread_id", Text, primary_key=True),
    # The user message the turn answered: a retry answers it again.
    Column("message_id", Text, primary_key=True),
    # The tool and its canonical arguments, hashed (tools/ledger.py).
    Column("call_key", Text, primary_key=True),
    # 1 for the first such call while answering the message, 2 for an identical second...
    Column("occurrence", Integer, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("tool", Text, nullable=False),
    Column("arguments", JSONB, nullable=False),
    # What the tool answered the model, and what the chat showed of it.
    Column("result", Text, nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["user_id", "thread_id", "message_id"],
        ["chat_items.user_id", "chat_items.thread_id", "chat_items.id"],
        ondelete="CASCADE",
    ),
)
"""A side-effecting tool call made while answering a user message, with its result
(tools/ledger.py): a retried answer gets this result instead of acting again. It goes
with its message, and so with its thread."""

CHAT_FEEDBACK = Table(
    "chat_feedback",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("thread_id", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    # The first vote on the item, and the latest change of it (the vote as it stands).
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["user_id", "thread_id", "item_id"],
        ["chat_items.user_id", "chat_items.thread_id", "chat_items.id"],
        ondelete="CASCADE",
    ),
    CheckConstraint("kind IN ('positive', 'negative')", name="ck_chat_feedback_kind"),
    # The export's `--since` and its order.
    Index("ix_chat_feedback_updated", "updated_at"),
)
"""A person's 👍/👎 on one assistant message (chat/feedback/votes.py); it goes with its item.

Also read, across users, by the operators' feedback export, through the read-only
`chat_feedback_operator` and `chat_items_operator` policies (migration 0006).
"""

USERS = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ux_users_email", "email", unique=True),
)
"""An account created through /api/auth/register.

Not row-level secured: sign-in has to find an account before anyone is signed in. Only
the accounts module reads it.
"""

TOKEN_REVOCATIONS = Table(
    "token_revocations",
    metadata,
    # SHA-256 of the token subject: what is kept of a deleted account is not its id.
    Column("subject_digest", LargeBinary, primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
)
"""Subjects whose data was deleted: their tokens issued up to `revoked_at` are refused
(accounts/revocations.py).

Not row-level secured, like `users`: it is read to decide who the caller is, before anyone is.
"""
