"""The pure rules of Pacer: no Flask, no database, no clock.

Every function here takes plain values (and an explicit ``now`` where time
matters) and returns plain values, so the whole control rule can be tested as
a table of cases.
"""

from app.control.flight import in_flight
from app.control.periods import local_day, local_time, month_bounds, month_start, utc_offset_spans
from app.control.rule import (
    BudgetFacts,
    CampaignFacts,
    Decision,
    Reason,
    Status,
    budget_reasons,
    decide,
)
from app.control.schedule import Window, format_minutes, in_schedule, parse_clock, window_at

__all__ = [
    "BudgetFacts",
    "CampaignFacts",
    "Decision",
    "Reason",
    "Status",
    "Window",
    "budget_reasons",
    "decide",
    "format_minutes",
    "in_flight",
    "in_schedule",
    "local_day",
    "utc_offset_spans",
    "local_time",
    "month_bounds",
    "month_start",
    "parse_clock",
    "window_at",
]
