"""sweep watermark: brand_change (when a brand's spend or settings last changed) and sweep_watermark
(what the last completed sweep covered), so the first sweep after an outage catches up on every
brand changed since.

Revision ID: e7a5c0d91b34
Revises: c41d7e9b2f10
Create Date: 2026-12-01 15:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e7a5c0d91b34'
down_revision = 'c41d7e9b2f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'brand_change',
        sa.Column('brand_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_brand_change')),
    )
    with op.batch_alter_table('brand_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_change_changed_at'), ['changed_at'], unique=False)
    op.create_table(
        'sweep_watermark',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('swept_as_of', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_sweep_watermark')),
    )


def downgrade():
    op.drop_table('sweep_watermark')
    with op.batch_alter_table('brand_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_change_changed_at'))
    op.drop_table('brand_change')
