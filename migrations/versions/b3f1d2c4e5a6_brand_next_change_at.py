"""brand.next_change_at: the next instant a brand's campaigns can change state without new spend,
so the minute's sweep visits only the brands that are due (NULL: not yet known, due).

Revision ID: b3f1d2c4e5a6
Revises: 4914b1ebfb4c
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3f1d2c4e5a6'
down_revision = '4914b1ebfb4c'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTERs (no batch copy of the brand table, which other tables reference): SQLite adds a column in place.
    op.add_column('brand', sa.Column('next_change_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_brand_next_change_at'), 'brand', ['next_change_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_brand_next_change_at'), table_name='brand')
    # SQLite (3.35+) drops a column in place too; a batch copy would trip the foreign keys to brand.
    op.execute('ALTER TABLE brand DROP COLUMN next_change_at')
