"""Ad-platform connectors: push a campaign's state to a platform and read its hourly spend.

Plain HTTP clients over httpx that know each platform's documented requests and answers and nothing of
Pacer's database, Flask or queues (a contract in pyproject.toml says so): app.services.platforms
stores the connections and calls them. docs/connectors.md describes what each one sends.
"""

from app.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorError,
    HourSpend,
    PlatformSettings,
    PushResult,
    RateLimited,
)
from app.connectors.registry import PLATFORMS, Platform, connector_for, platform

__all__ = [
    "PLATFORMS",
    "AccountInfo",
    "Connector",
    "ConnectorError",
    "HourSpend",
    "Platform",
    "PlatformSettings",
    "PushResult",
    "RateLimited",
    "connector_for",
    "platform",
]
