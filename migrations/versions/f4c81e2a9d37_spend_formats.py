"""spend formats: saved column mappings, and an import's format and chosen brand

Revision ID: f4c81e2a9d37
Revises: f3c9a1d7b2e4
Create Date: 2026-12-01 18:10:00

"""
import contextlib
import warnings

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f4c81e2a9d37'
down_revision = "f3c9a1d7b2e4"
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _quiet():
    # SQLite's batch mode reflects the referred brand table, whose lower(name) index it cannot reflect (and
    # need not: only spend_import is rebuilt).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        yield


def upgrade():
    op.create_table(
        'spend_format',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('number_format', sa.String(length=12), nullable=False),
        sa.Column('date_format', sa.String(length=12), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spend_format')),
        sa.UniqueConstraint('name', name=op.f('uq_spend_format_name')),
    )
    with _quiet(), op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('brand_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_spend_import_brand_id_brand'), 'brand', ['brand_id'], ['id'])


def downgrade():
    with _quiet(), op.batch_alter_table('spend_import', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_spend_import_brand_id_brand'), type_='foreignkey')
        batch_op.drop_column('brand_id')
        batch_op.drop_column('format_name')
    op.drop_table('spend_format')
