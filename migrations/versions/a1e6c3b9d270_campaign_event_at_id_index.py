"""campaign_event: the (at) index becomes (at, id), so "newest first, ties by id" (the overview's latest
automatic actions, the activity log) reads the first rows off the index on PostgreSQL too, instead of
sorting every event of an instant (a sweep writes thousands at one instant). SQLite's (at) index already
ended in the rowid.

Revision ID: a1e6c3b9d270
Revises: db51b2df01ec
Create Date: 2026-12-01 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1e6c3b9d270'
down_revision = 'db51b2df01ec'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_campaign_event_at_id'), 'campaign_event', ['at', 'id'], unique=False)
    op.drop_index(op.f('ix_campaign_event_at'), table_name='campaign_event')


def downgrade():
    op.create_index(op.f('ix_campaign_event_at'), 'campaign_event', ['at'], unique=False)
    op.drop_index(op.f('ix_campaign_event_at_id'), table_name='campaign_event')
