"""SQLModel tables of the chat store.

Every user-owned table has `user_id` in its primary key, so one user's ids can never
collide with, or reveal, another's. Row-level security (see the migrations) is the
second wall behind the `WHERE user_id = ...` of every query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

USER_OWNED_TABLES = ("chat_threads", "chat_items", "chat_attachments", "tasks")


class ChatThread(SQLModel, table=True):
    """A ChatKit thread's metadata, stored whole as JSON."""

    __tablename__ = "chat_threads"
    __table_args__ = (Index("ix_chat_threads_user_created", "user_id", "created_at", "seq"),)

    user_id: str = Field(sa_column=Column(Text, primary_key=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class ChatItem(SQLModel, table=True):
    """A thread item, stored whole as JSON; `seq` breaks ties of equal `created_at`."""

    __tablename__ = "chat_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "thread_id"],
            ["chat_threads.user_id", "chat_threads.id"],
            ondelete="CASCADE",
        ),
        Index("ix_chat_items_thread_created", "user_id", "thread_id", "created_at", "seq"),
    )

    user_id: str = Field(sa_column=Column(Text, primary_key=True))
    thread_id: str = Field(sa_column=Column(Text, primary_key=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    type: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class ChatAttachment(SQLModel, table=True):
    """Attachment metadata; `thread_id` is set once the attachment is sent in a thread."""

    __tablename__ = "chat_attachments"
    __table_args__ = (Index("ix_chat_attachments_thread", "user_id", "thread_id"),)

    user_id: str = Field(sa_column=Column(Text, primary_key=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    thread_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class TaskRow(SQLModel, table=True):
    """A user's task, managed by the agent's task tools and shown in the tasks panel."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_user_done_created", "user_id", "done", "created_at"),)

    user_id: str = Field(sa_column=Column(Text, primary_key=True))
    id: str = Field(sa_column=Column(Text, primary_key=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    priority: str = Field(
        default="normal", sa_column=Column(Text, nullable=False, server_default="normal")
    )
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    done: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class UserRow(SQLModel, table=True):
    """An account created through /api/auth/register.

    Not row-level secured: login has to find an account before anyone is signed in.
    Only the accounts module reads it.
    """

    __tablename__ = "users"
    __table_args__ = (Index("ux_users_email", "email", unique=True),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    email: str = Field(sa_column=Column(Text, nullable=False))
    display_name: str = Field(sa_column=Column(Text, nullable=False))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# Core tables for the modules that query with SQLAlchemy Core (typed, unlike `__table__`).
TASKS: Table = SQLModel.metadata.tables["tasks"]
USERS: Table = SQLModel.metadata.tables["users"]
