"""period spend rows: spend_record.period (a platform's brand-local day or hour figure, rewritten in place
by a later one) and figure_at (when that figure was registered: the latest wins); the import's counts of
period figures replaced (raised), corrected (lowered) and unchanged.

Revision ID: db51b2df01ec
Revises: f4c81e2a9d37
Create Date: 2026-12-01 18:05:00

"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "db51b2df01ec"
down_revision = "f4c81e2a9d37"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite adds a check constraint by copying the table, reflecting the tables its foreign keys name: brand's
    # expression index (lower(name)) cannot be reflected, and need not be (brand is not copied).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("spend_record", schema=None) as batch_op:
            batch_op.add_column(sa.Column("period", sa.String(length=4), nullable=True))
            batch_op.add_column(sa.Column("figure_at", sa.DateTime(), nullable=True))
            batch_op.create_check_constraint(op.f("ck_spend_record_period"), "period in ('day', 'hour')")
    with op.batch_alter_table("spend_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("corrected", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    # Both tables are copied on SQLite to drop columns; both have foreign keys to brand (see upgrade).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("spend_import", schema=None) as batch_op:
            batch_op.drop_column("unchanged")
            batch_op.drop_column("corrected")
            batch_op.drop_column("replaced")
        with op.batch_alter_table("spend_record", schema=None) as batch_op:
            batch_op.drop_constraint(op.f("ck_spend_record_period"), type_="check")
            batch_op.drop_column("figure_at")
            batch_op.drop_column("period")
