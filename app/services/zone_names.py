"""Time-zone names for people: the canonical IANA names a picker lists (with their current UTC offsets
and countries), and the canonical name of any name the tz database accepts.

The list is zone.tab's names (one or more per country, e.g. Europe/Oslo, Asia/Kolkata) plus UTC: no
deprecated aliases (Africa/Asmera, US/Eastern, Asia/Calcutta) and no Etc/ or POSIX-style names. Those
are still accepted on input, and :func:`canonical_zone` names the listed zone they stand for. The
data comes from the tzdata package (a dependency) or, failing that, the system's /usr/share/zoneinfo.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

SYSTEM_ZONEINFO = Path("/usr/share/zoneinfo")


@dataclass(frozen=True)
class ZoneChoice:
    name: str  # canonical IANA name, e.g. "America/New_York"
    offset: str  # the UTC offset at the instant asked about, e.g. "UTC−05:00"
    country: str  # e.g. "United States", "" for UTC

    @property
    def label(self) -> str:
        """'UTC−05:00 · United States', shown beside the name in the picker (and searched by it)."""
        return f"{self.offset} · {self.country}" if self.country else self.offset


def _read(name: str) -> str:
    try:
        return resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return (SYSTEM_ZONEINFO / name).read_text(encoding="utf-8")


@cache
def _zone_tab() -> dict[str, str]:
    """Listed name -> country name."""
    countries = {}
    for line in _read("iso3166.tab").splitlines():
        if line and not line.startswith("#"):
            code, _, country = line.partition("\t")
            countries[code] = country.strip()
    zones = {}
    for line in _read("zone.tab").splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, name, *_ = line.split("\t")
            zones[name] = countries.get(code, code)
    zones["UTC"] = ""
    return zones


@cache
def _links() -> dict[str, str]:
    """Alias -> the zone it is a link to (tzdata.zi's "L target alias" lines)."""
    links = {}
    for line in _read("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


def _target(name: str) -> str:
    links = _links()
    seen = set()
    while name in links and name not in seen:
        seen.add(name)
        name = links[name]
    return name


@cache
def _listed_by_target() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in _zone_tab():
        grouped.setdefault(_target(name), []).append(name)
    return grouped


@cache
def canonical_zone(name: str) -> str:
    """The listed name that ``name`` stands for: itself when listed ("Europe/Oslo"), the renamed
    spelling for an old one ("Africa/Asmera" -> "Africa/Asmara", "Asia/Calcutta" -> "Asia/Kolkata"),
    the zone a legacy alias links to ("US/Eastern" -> "America/New_York"). A zone that is neither
    listed nor a link (e.g. "Etc/GMT+5") is its own canonical name."""
    target = _target(name)
    if target == _target("UTC"):  # Etc/UTC, Zulu, Universal...
        return "UTC"
    if name in _zone_tab() or name not in _links():
        return name
    candidates = _listed_by_target().get(target, [])
    city = name.rsplit("/", 1)[-1].lower()
    close = difflib.get_close_matches(city, [c.rsplit("/", 1)[-1].lower() for c in candidates], n=1, cutoff=0.8)
    if close:
        return next(c for c in candidates if c.rsplit("/", 1)[-1].lower() == close[0])
    if target in _zone_tab() or not candidates:
        return target
    return sorted(candidates)[0]


def offset_text(zone: str, at: datetime) -> str:
    """'UTC+05:30', 'UTC−05:00' (a real minus sign), 'UTC±00:00' at the instant ``at``."""
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes > 0 else ("−" if minutes < 0 else "±")
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def zone_choices(at: datetime) -> tuple[ZoneChoice, ...]:
    """Every listed zone with its offset at ``at`` (daylight saving as it is then), by name."""
    # Today's offsets are multiples of 15 minutes and change at local whole hours or quarter hours, so at whole
    # quarter hours of UTC: the list is built once per quarter hour (at worst a label would be a quarter late).
    seconds = int(at.timestamp())
    return _zone_choices_from(datetime.fromtimestamp(seconds - seconds % 900, UTC))


@lru_cache(maxsize=4)
def _zone_choices_from(quarter: datetime) -> tuple[ZoneChoice, ...]:
    return tuple(ZoneChoice(name, offset_text(name, quarter), country) for name, country in sorted(_zone_tab().items()))


def listed_zone_names() -> list[str]:
    return sorted(_zone_tab())
