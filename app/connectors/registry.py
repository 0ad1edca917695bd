"""The platforms Pacer can connect to, by name: their credential fields, account-id rule and connector class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from app.connectors import google_ads, meta
from app.connectors.base import Connector, PlatformSettings


@dataclass(frozen=True)
class Platform:
    name: str  # stored in platform_connection.platform
    label: str
    credential_fields: tuple[str, ...]
    required_fields: tuple[str, ...]
    normalise_account_id: Callable[[str], str]
    factory: Callable[[dict, str, PlatformSettings, httpx.Client], Connector]


PLATFORMS: dict[str, Platform] = {
    google_ads.PLATFORM: Platform(
        google_ads.PLATFORM,
        "Google Ads",
        google_ads.CREDENTIAL_FIELDS,
        google_ads.REQUIRED_FIELDS,
        google_ads.normalise_customer_id,
        google_ads.GoogleAdsConnector,
    ),
    meta.PLATFORM: Platform(
        meta.PLATFORM,
        "Meta",
        meta.CREDENTIAL_FIELDS,
        meta.REQUIRED_FIELDS,
        meta.normalise_account_id,
        meta.MetaConnector,
    ),
}


def platform(name: str) -> Platform:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"Unknown platform {name!r}; the platforms are {', '.join(PLATFORMS)}.") from None


def connector_for(
    name: str, credentials: dict, account_id: str, settings: PlatformSettings, client: httpx.Client
) -> Connector:
    """The connector of platform ``name`` for one account, sending through ``client``."""
    return platform(name).factory(credentials, account_id, settings, client)
