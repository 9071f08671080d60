"""Token revocations announced: every change to `token_revocations` notifies the channel
`taskchat_token_revocations`, so each running replica keeps the table in memory
(accounts/revocations.py) instead of asking the database on every request.

A trigger rather than the application: a revocation written by `psql` (re-applying
deletions after a restore, see docs/your-data.md) or by another replica is announced the same way.
The notice is sent when its transaction commits, and not at all if it rolls back. Payloads:
`set <digest hex> <revoked_at epoch>`, `forget <digest hex>`, and `reload` after a TRUNCATE.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION token_revocations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('taskchat_token_revocations', 'reload');
                RETURN NULL;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                PERFORM pg_notify(
                    'taskchat_token_revocations',
                    'forget ' || encode(OLD.subject_digest, 'hex')
                );
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                PERFORM pg_notify(
                    'taskchat_token_revocations',
                    'set ' || encode(NEW.subject_digest, 'hex') || ' '
                        || extract(epoch FROM NEW.revoked_at)::text
                );
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER token_revocations_notify "
        "AFTER INSERT OR UPDATE OR DELETE ON token_revocations "
        "FOR EACH ROW EXECUTE FUNCTION token_revocations_notify()"
    )
    op.execute(
        "CREATE TRIGGER token_revocations_reload AFTER TRUNCATE ON token_revocations "
        "FOR EACH STATEMENT EXECUTE FUNCTION token_revocations_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER token_revocations_reload ON token_revocations")
    op.execute("DROP TRIGGER token_revocations_notify ON token_revocations")
    op.execute("DROP FUNCTION token_revocations_notify()")
