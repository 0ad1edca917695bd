"""Random spend for the campaigns running now: the `simulate-spend MIN= MAX=` of the system Pacer replaces.

Each spend goes through the one manual-spend path (app.services.campaigns.record_manual_spend), so it
obeys the spend rule of every entry point and is enforced like any other spend.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Brand, Campaign
from app.money import exponent, to_decimal
from app.services.campaigns import record_manual_spend

_PLAIN = re.compile(r"^[0-9]+(\.[0-9]+)?$")


class RandomSpendError(ValueError):
    """A bad MIN or MAX; the message is a sentence naming which."""


@dataclass(frozen=True)
class RandomSpend:
    brand: str
    campaign: str
    amount: Decimal
    currency: str


@dataclass
class RandomSpendResult:
    spends: list[RandomSpend]
    skipped_brands: list[str]  # no amount between MIN and MAX fits the brand's currency (e.g. 0.10-0.90 JPY)


def parse_range(minimum: str, maximum: str) -> tuple[Decimal, Decimal]:
    """MIN and MAX as plain decimals, 0 <= MIN <= MAX; raises RandomSpendError naming the bad one."""
    values = []
    for name, text in (("MIN", minimum), ("MAX", maximum)):
        text = (text or "").strip()
        if not _PLAIN.match(text):
            raise RandomSpendError(f"{name} {text!r} is not an amount: use digits and a decimal point, e.g. 12.50")
        values.append(Decimal(text))
    if values[0] > values[1]:
        raise RandomSpendError(f"MIN ({values[0]}) is more than MAX ({values[1]})")
    return values[0], values[1]


def running_campaigns(session: Session) -> list[Campaign]:
    """The campaigns active now (as last reconciled) of brands that are not archived, by brand and name."""
    return list(
        session.scalars(
            select(Campaign)
            .join(Brand)
            .where(Campaign.status == "active", Campaign.archived_at.is_(None), Brand.archived_at.is_(None))
            .order_by(Brand.name, Campaign.name)
        )
    )


def spend_at_random(
    session: Session, now: datetime, minimum: Decimal, maximum: Decimal, rng: random.Random
) -> RandomSpendResult:
    """Record one spend at ``now`` for each running campaign, uniformly between ``minimum`` and ``maximum``
    in its brand's currency (in whole minor units); does not commit. Names the brands for enforcement."""
    result = RandomSpendResult([], [])
    for campaign in running_campaigns(session):
        currency = campaign.brand.currency
        scale = 10 ** exponent(currency)
        low, high = math.ceil(minimum * scale), math.floor(maximum * scale)
        if low > high:
            if campaign.brand.name not in result.skipped_brands:
                result.skipped_brands.append(campaign.brand.name)
            continue
        amount = to_decimal(rng.randint(low, high), currency)
        record_manual_spend(session, campaign, amount=f"{amount:f}", now=now)
        result.spends.append(RandomSpend(campaign.brand.name, campaign.name, amount, currency))
    return result
