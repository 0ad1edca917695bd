"""brand_figure: the overview's per-brand figures (today's and the month's spend and shares, the
projection, active and paused counts), kept by the writes that change them, each sort on an index;
and an index on lower(brand.name) for the name sort. Brands get their figures at their next reconcile
(every brand is due at the first sweep after the next_change_at migration).

Revision ID: d5a8e2f7c9b1
Revises: b3f1d2c4e5a6
Create Date: 2026-12-01 16:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5a8e2f7c9b1'
down_revision = 'b3f1d2c4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'brand_figure',
        sa.Column('brand_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('spend_today', sa.BigInteger(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('spend_month', sa.BigInteger(), nullable=False),
        sa.Column('projection_factor', sa.Float(), nullable=False),
        sa.Column('daily_share', sa.Float(), nullable=False),
        sa.Column('monthly_share', sa.Float(), nullable=False),
        sa.Column('projected_share', sa.Float(), nullable=False),
        sa.Column('active', sa.Integer(), nullable=False),
        sa.Column('paused', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], name=op.f('fk_brand_figure_brand_id_brand')),
        sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_brand_figure')),
    )
    for column in ('daily_share', 'monthly_share', 'projected_share', 'paused'):
        op.create_index(op.f(f'ix_brand_figure_{column}'), 'brand_figure', [column], unique=False)
    op.create_index('ix_brand_lower_name', 'brand', [sa.text('lower(name)')], unique=False)


def downgrade():
    op.drop_index('ix_brand_lower_name', table_name='brand')
    for column in ('daily_share', 'monthly_share', 'projected_share', 'paused'):
        op.drop_index(op.f(f'ix_brand_figure_{column}'), table_name='brand_figure')
    op.drop_table('brand_figure')
