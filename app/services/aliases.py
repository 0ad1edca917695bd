"""Campaign aliases: a brand's other names for its campaigns in spend files (a platform's campaign
name or id, as its exports write it), so the next export with that name imports untouched.

An import resolves a campaign name by exact name, then ignoring case, then alias
(app.ingest.csv_spend.CampaignDirectory). Adding or removing an alias is a person's change:
it is logged in the activity log as a manual event of the campaign (its status unchanged).
None of these functions commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import lock_brand
from app.models import Campaign, CampaignAlias, CampaignEvent

NAME_MAX = 200


class AliasError(ValueError):
    """The alias cannot be added or removed; the message says why, in a sentence."""


@dataclass(frozen=True)
class AliasView:
    id: int
    name: str
    campaign_id: int
    campaign_name: str


def add_alias(
    session: Session, brand_id: int, *, name: str, campaign_id: int, now: datetime, actor: str
) -> CampaignAlias:
    """Make ``name`` (trimmed) another name of campaign ``campaign_id`` of brand ``brand_id``; does not commit.

    Raises AliasError when the name is empty or too long, already an alias of the brand (ignoring case),
    already what the brand's campaign names resolve it to, or when the campaign is not a live campaign of
    the brand. Takes the brand's lock, so two people adding the same name queue and the second is told.
    """
    brand = lock_brand(session, brand_id)
    if brand is None:
        raise AliasError(f"There is no brand with id {brand_id}.")
    if brand.archived_at is not None:
        raise AliasError(f"Brand {brand.name!r} is archived, so its campaigns cannot get aliases.")
    name = (name or "").strip()
    if not name:
        raise AliasError("The alias is empty: give the campaign name or id as the export writes it.")
    if len(name) > NAME_MAX:
        raise AliasError(f"The alias is {len(name)} characters long; at most {NAME_MAX}.")
    campaign = session.get(Campaign, campaign_id) if isinstance(campaign_id, int) else None
    if campaign is None or campaign.brand_id != brand.id:
        raise AliasError(f"Brand {brand.name!r} has no campaign with id {campaign_id}: choose one of its campaigns.")
    if campaign.archived_at is not None:
        raise AliasError(f"Campaign {campaign.name!r} is archived: choose a live campaign.")
    folded = name.casefold()
    for other in session.scalars(select(CampaignAlias).where(CampaignAlias.brand_id == brand.id)):
        if other.name.casefold() == folded:
            target = "this campaign" if other.campaign_id == campaign.id else f"campaign {other.campaign.name!r}"
            raise AliasError(f"{other.name!r} is already an alias of {target} in brand {brand.name!r}.")
    live = session.scalars(
        select(Campaign.name).where(Campaign.brand_id == brand.id, Campaign.archived_at.is_(None))
    ).all()
    same = [n for n in live if n == name] or [n for n in live if n.casefold() == folded]
    if len(same) == 1:
        raise AliasError(
            f"Brand {brand.name!r} has a campaign named {same[0]!r}: rows naming {name!r} already go to it."
        )
    alias = CampaignAlias(brand_id=brand.id, campaign_id=campaign.id, name=name, created_at=now, actor=actor)
    session.add(alias)
    _log(session, campaign, now, actor, {"alias_added": name})
    session.flush()
    return alias


def remove_alias(session: Session, alias_id: int, *, now: datetime, actor: str) -> CampaignAlias:
    """Remove an alias; does not commit. Raises AliasError if there is no such alias."""
    alias = session.get(CampaignAlias, alias_id)
    if alias is None:
        raise AliasError(f"There is no alias with id {alias_id}; it may have been removed already.")
    lock_brand(session, alias.brand_id)
    _log(session, alias.campaign, now, actor, {"alias_removed": alias.name})
    session.delete(alias)
    session.flush()
    return alias


def brand_aliases(session: Session, brand_id: int) -> list[AliasView]:
    """The brand's aliases by name, with the campaign each leads to."""
    rows = session.execute(
        select(CampaignAlias.id, CampaignAlias.name, Campaign.id, Campaign.name)
        .join(Campaign, Campaign.id == CampaignAlias.campaign_id)
        .where(CampaignAlias.brand_id == brand_id)
        .order_by(CampaignAlias.name)
    )
    return [AliasView(*row) for row in rows]


def _log(session: Session, campaign: Campaign, now: datetime, actor: str, facts: dict) -> None:
    # A manual event of the campaign whose status does not change: the activity log shows who named it what.
    session.add(
        CampaignEvent(
            campaign_id=campaign.id,
            brand_id=campaign.brand_id,
            at=now,
            old_status=campaign.status,
            new_status=campaign.status,
            old_reasons=campaign.reasons_text,
            new_reasons=campaign.reasons_text,
            actor=actor,
            automatic=False,
            facts_json=json.dumps(facts, sort_keys=True),
        )
    )


def live_campaigns(session: Session, brand_id: int) -> list[tuple[int, str]]:
    """(id, name) of the brand's live campaigns by name: what an alias may lead to."""
    return [
        (campaign_id, name)
        for campaign_id, name in session.execute(
            select(Campaign.id, Campaign.name)
            .where(Campaign.brand_id == brand_id, Campaign.archived_at.is_(None))
            .order_by(Campaign.name)
        )
    ]
