"""brand_figure triage: the pacing state and the paused campaigns by reason (switched off, flight,
schedule, daily and monthly budget, and by either budget), kept by reconcile_brand with the other
figures, so the overview's triage strip counts and filters brands on an index. Every brand is made
due (next_change_at NULL), so the first sweep after this migration fills them in.

Revision ID: f3c9a1d7b2e4
Revises: c7e2a9f41b85
Create Date: 2026-12-01 18:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c9a1d7b2e4'
down_revision = "c7e2a9f41b85"
branch_labels = None
depends_on = None

COUNTS = ('paused_disabled', 'paused_flight', 'paused_schedule', 'paused_daily', 'paused_monthly', 'paused_budget')
INDEXED = ('pacing', 'paused_schedule', 'paused_budget')


def upgrade():
    # Plain ADD/DROP COLUMN (SQLite has both): a batch would reflect brand and its expression index.
    op.add_column('brand_figure', sa.Column('pacing', sa.String(length=16), server_default='not started', nullable=False))
    for column in COUNTS:
        op.add_column('brand_figure', sa.Column(column, sa.Integer(), server_default='0', nullable=False))
    for column in INDEXED:
        op.create_index(op.f(f'ix_brand_figure_{column}'), 'brand_figure', [column], unique=False)
    op.execute('UPDATE brand SET next_change_at = NULL')


def downgrade():
    for column in INDEXED:
        op.drop_index(op.f(f'ix_brand_figure_{column}'), table_name='brand_figure')
    for column in ('pacing', *COUNTS):
        op.drop_column('brand_figure', column)
