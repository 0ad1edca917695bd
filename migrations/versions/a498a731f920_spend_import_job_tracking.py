"""spend import job tracking: the RQ job id, the process running the import and the attempt count,
so a run whose worker died is detected and retried.

Revision ID: a498a731f920
Revises: 2d73a3954e10
Create Date: 2026-11-25 18:21:41.712988

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a498a731f920'
down_revision = '2d73a3954e10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('runner', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('runner')
        batch_op.drop_column('job_id')
