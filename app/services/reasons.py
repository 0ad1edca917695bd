"""Paused campaigns counted by reason, for the overview's rows and triage (kept in brand_figure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# The short words of each pause reason on an overview row ("3 out of hours, 1 daily budget"), in the
# order they are listed; the keys are brand_figure's paused_<key> columns.
PAUSE_WORDS = {
    "daily": "daily budget",
    "monthly": "monthly budget",
    "schedule": "out of hours",
    "flight": "outside flight dates",
    "disabled": "switched off",
}
_KEYS = {
    "daily_budget": "daily",
    "monthly_budget": "monthly",
    "schedule": "schedule",
    "flight": "flight",
    "disabled": "disabled",
}


def pause_counts(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """From (stored reasons text "a,b", number of paused campaigns with exactly those reasons): how many
    campaigns each reason pauses (a campaign with two reasons counts under each), and under "budget"
    how many are paused by either budget (each once)."""
    counts: Counter[str] = Counter()
    for text, number in rows:
        reasons = {_KEYS[r] for r in (text or "").split(",") if r in _KEYS}
        for key in reasons:
            counts[key] += int(number)
        if reasons & {"daily", "monthly"}:
            counts["budget"] += int(number)
    return dict(counts)


def pause_words(counts: dict[str, int]) -> str:
    """ "3 out of hours, 1 daily budget": the reasons with their counts, budgets first; "" for none."""
    return ", ".join(f"{counts[key]} {words}" for key, words in PAUSE_WORDS.items() if counts.get(key))
