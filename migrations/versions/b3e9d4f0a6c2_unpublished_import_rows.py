"""unpublished import rows: spend_import.unpublished_from_id marks the rows an import has stored in
committed batches (SQLite) but not yet published, so they do not count and can be deleted if it fails.

Revision ID: b3e9d4f0a6c2
Revises: b3f19d2c7a40
Create Date: 2026-12-01 16:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b3e9d4f0a6c2'
down_revision = 'b3f19d2c7a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unpublished_from_id', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.drop_column('unpublished_from_id')
