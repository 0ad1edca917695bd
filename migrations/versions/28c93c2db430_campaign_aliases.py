"""campaign aliases: a brand's other names for its campaigns in spend files (platform names or ids)

Revision ID: 28c93c2db430
Revises: d5a8e2f7c9b1
Create Date: 2026-12-01 18:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '28c93c2db430'
down_revision = 'd5a8e2f7c9b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], name=op.f('fk_campaign_alias_brand_id_brand')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_alias_campaign_id_campaign')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_alias')),
    sa.UniqueConstraint('brand_id', 'name', name=op.f('uq_campaign_alias_brand_id_name'))
    )
    with op.batch_alter_table('campaign_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_alias_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_alias_campaign_id'))

    op.drop_table('campaign_alias')
