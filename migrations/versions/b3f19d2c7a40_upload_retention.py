"""upload retention: when a stored upload was deleted, and its header kept for the rejected rows' download

Revision ID: b3f19d2c7a40
Revises: e5b1a7c3d920
Create Date: 2026-12-01 16:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b3f19d2c7a40'
down_revision = 'e5b1a7c3d920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('file_header', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.drop_column('file_header')
        batch_op.drop_column('file_deleted_at')
