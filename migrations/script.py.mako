"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Runs inside `agno-session-service migrate`'s locked transaction; `alembic.context.config.attributes`
carries the target schema (`agno_schema`, None on SQLite) and the layout for an empty database
(`agno_generation`). A revision must never alter, drop or rewrite agno's own tables.
"""

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
