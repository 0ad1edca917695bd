"""readable dedupe keys: e:<brand>:<external id> and f:<campaign>:<UTC time>:<amount>:<occurrence>

The old keys were 40-hex digests, so every imported row landed on a random page of
the unique index; the new ones keep a brand's (or a campaign's) keys together. Each
stored key is rewritten to the new form of the same fact, so a file imported before
this migration still adds nothing when imported again after it.

Revision ID: c41d7e9b2f10
Revises: 8f2871c78252
Create Date: 2026-12-01 07:40:00

"""
import hashlib
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41d7e9b2f10'
down_revision = '8f2871c78252'
branch_labels = None
depends_on = None

KEY_LENGTH = 80
BATCH = 5000
MAX_OCCURRENCE = 1_000_000

spend_record = sa.table(
    "spend_record",
    sa.column("id", sa.BigInteger),
    sa.column("brand_id", sa.Integer),
    sa.column("campaign_id", sa.Integer),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("spent_at", sa.DateTime),
    sa.column("external_id", sa.String),
    sa.column("dedupe_key", sa.String),
)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _utc_text(spent_at: datetime) -> str:
    return spent_at.replace(tzinfo=None).isoformat(" ", "microseconds")


def _old_fingerprint(row, occurrence):
    epoch = (row.spent_at.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds()
    return "f:" + _digest(f"{row.campaign_id}\x1f{epoch:.6f}\x1f{row.amount_minor}\x1f{occurrence}")


def _new_key(row):
    key = row.dedupe_key
    if ":" in key[2:]:
        return None  # already new
    if key.startswith("e:"):
        new = f"e:{row.brand_id}:{row.external_id}"
        return new if len(new) <= KEY_LENGTH else f"h:{row.brand_id}:{_digest(row.external_id)}"
    if key.startswith("f:"):
        for occurrence in range(1, MAX_OCCURRENCE):
            if _old_fingerprint(row, occurrence) == key:
                return f"f:{row.campaign_id}:{_utc_text(row.spent_at)}:{row.amount_minor}:{occurrence}"
        raise RuntimeError(f"spend_record {row.id}: its dedupe key matches no fingerprint of its own values")
    return None  # m: one-off manual keys stay


def _old_key(row):
    key = row.dedupe_key
    if key.startswith(("e:", "h:")) and ":" in key[2:]:
        return "e:" + _digest(f"{row.brand_id}\x1f{row.external_id}")
    if key.startswith("f:") and ":" in key[2:]:
        return _old_fingerprint(row, int(key.rsplit(":", 1)[1]))
    return None


def _rewrite(make_key):
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(spend_record).where(spend_record.c.id > last).order_by(spend_record.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changes = [{"row_id": row.id, "key": key} for row in rows if (key := make_key(row)) is not None]
        if changes:
            connection.execute(
                spend_record.update().where(spend_record.c.id == sa.bindparam("row_id")).values(dedupe_key=sa.bindparam("key")),
                changes,
            )


def upgrade():
    _rewrite(_new_key)


def downgrade():
    _rewrite(_old_key)
