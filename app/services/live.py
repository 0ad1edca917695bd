"""What a live page's content depends on, read cheaply, so an unchanged page is answered 304 unrendered.

Each function returns a small tuple of values from one or two indexed reads (a primary key, a max over
an index) that changes whenever anything the page shows changes: the brand's change mark (every write the
rule depends on: spend, settings, imports; app.services.changes), the newest campaign event (every status
change, automatic or manual), the newest alert, an import's row. The web layer hashes the tuple, with the
viewer and the minute, into the page's ETag (app.web.live). Read-only; no clock.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Alert, Brand, BrandChange, Campaign, CampaignEvent, SpendImport


def overview_version(session: Session) -> tuple:
    """Every brand's figures and counts: the newest change mark, the newest event, the newest brand."""
    return tuple(
        session.execute(
            select(
                select(func.max(BrandChange.changed_at)).scalar_subquery(),
                select(func.max(CampaignEvent.id)).scalar_subquery(),
                select(func.max(Brand.id)).scalar_subquery(),
            )
        ).one()
    )


def brand_version(session: Session, brand: Brand) -> tuple:
    """One brand's page: its settings (the row is loaded already), its change mark, its newest event,
    alert and campaign."""
    brand_id = brand.id
    settings = (brand.name, brand.timezone, brand.currency, brand.daily_budget_minor, brand.monthly_budget_minor)
    settings += (brand.alert_percents, brand.archived_at)
    return settings + tuple(
        session.execute(
            select(
                select(BrandChange.changed_at).where(BrandChange.brand_id == brand_id).scalar_subquery(),
                select(func.max(CampaignEvent.at)).where(CampaignEvent.brand_id == brand_id).scalar_subquery(),
                select(func.max(Alert.id)).where(Alert.brand_id == brand_id).scalar_subquery(),
                select(func.max(Campaign.id)).where(Campaign.brand_id == brand_id).scalar_subquery(),
            )
        ).one()
    )


def campaign_version(session: Session, campaign: Campaign) -> tuple:
    """A campaign's page: the campaign's own row (loaded already), its brand's change mark (spend and
    settings) and the campaign's newest event."""
    own = (campaign.name, campaign.enabled, campaign.start_date, campaign.end_date, campaign.archived_at)
    own += (campaign.status, campaign.reasons_text, campaign.status_changed_at)
    return own + tuple(
        session.execute(
            select(
                select(BrandChange.changed_at).where(BrandChange.brand_id == campaign.brand_id).scalar_subquery(),
                select(func.max(CampaignEvent.at)).where(CampaignEvent.campaign_id == campaign.id).scalar_subquery(),
            )
        ).one()
    )


def activity_version(session: Session) -> tuple:
    """The activity log: its newest event (events are only ever added)."""
    return (session.scalar(select(func.max(CampaignEvent.id))),)


_IMPORT_COLUMNS = (
    SpendImport.id,
    SpendImport.status,
    SpendImport.attempts,
    SpendImport.job_id,
    SpendImport.rows_read,
    SpendImport.imported,
    SpendImport.duplicates,
    SpendImport.rejected,
    SpendImport.finished_at,
    SpendImport.file_deleted_at,
)


def imports_version(session: Session, page: int, per_page: int) -> tuple:
    """A page of the import history (newest first): the status and counts of the imports on it."""
    rows = session.execute(
        select(*_IMPORT_COLUMNS).order_by(SpendImport.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return (session.scalar(select(func.max(SpendImport.id))), *(tuple(row) for row in rows))


def import_version(session: Session, import_id: int) -> tuple:
    """One import's page: its status, attempt, job and counts (its live progress is polled apart)."""
    row = session.execute(select(*_IMPORT_COLUMNS).where(SpendImport.id == import_id)).one_or_none()
    return tuple(row) if row is not None else ()
