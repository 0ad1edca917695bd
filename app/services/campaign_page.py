"""What the campaign page shows, as one view model: status facts, spend now, the schedule in
words, the next 7 days, and a page of history.

Reads only. The words here (durations, intervals, why a day has no runs) are plain functions
of the facts, so the page and its tests read the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.control import BudgetFacts, Window, in_flight
from app.control.schedule import DAY_MINUTES, DAY_NAMES, format_minutes, merge_windows
from app.control.upcoming import RunInterval, UpcomingDay, upcoming_runs
from app.models import Brand, Campaign, CampaignEvent
from app.money import exponent, format_amount
from app.services.reconcile import decision_facts
from app.services.totals import spend_today_and_month

HISTORY_PER_PAGE = 20


@dataclass(frozen=True)
class HistoryPage:
    """One page of a campaign's events, newest first; a page past the end has no items."""

    items: tuple[CampaignEvent, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


@dataclass(frozen=True)
class StripBar:
    """One run on a day of the "next 7 days" strip: placed by wall-clock minute, in percent of the day."""

    left: float
    width: float
    text: str


@dataclass(frozen=True)
class StripRow:
    label: str
    bars: tuple[StripBar, ...]
    total: str | None  # the day's running time in words, when it runs
    empty: str | None  # why it does not run that day
    now: float | None  # today's current time, in percent of the day


@dataclass(frozen=True)
class CampaignPage:
    campaign: Campaign
    brand: Brand
    local_now: datetime
    latest: CampaignEvent | None
    now_facts: dict  # what the rule reads at ``now`` (reconcile's decision_facts), never a stored event's copy
    spend_today: int
    spend_month: int
    windows: tuple[Window, ...]
    window_lines: tuple[str, ...]
    strip: tuple[StripRow, ...]
    history: HistoryPage
    editable: bool
    amount_placeholder: str  # an example amount in the brand's currency, e.g. "12.50" or "12"

    @property
    def has_windows(self) -> bool:
        return bool(self.windows)


def campaign_page(
    session: Session, campaign_id: int, now: datetime, *, history_page: int, can_edit: bool
) -> CampaignPage:
    """Everything the campaign page shows at ``now`` (brand-local where it says so); reads only.

    ``history_page`` counts from 1 (anything lower reads as 1); ``can_edit`` is the viewer's role,
    and the page is editable only when the campaign and its brand are live too.
    Raises LookupError for an unknown campaign.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign with id {campaign_id}")
    brand = campaign.brand
    tz = ZoneInfo(brand.timezone)
    local_now = now.astimezone(tz)
    history = _history(session, campaign.id, max(history_page, 1))
    spend_today, spend_month = spend_today_and_month(session, brand, now)
    windows = campaign.schedule()
    upcoming = upcoming_runs(
        windows, campaign.start_date, campaign.end_date, campaign.enabled and campaign.archived_at is None, tz, now
    )
    return CampaignPage(
        campaign=campaign,
        brand=brand,
        local_now=local_now,
        latest=history.items[0] if history.page == 1 and history.items else _latest(session, campaign.id),
        now_facts=decision_facts(
            brand,
            campaign,
            BudgetFacts(brand.daily_budget_minor, brand.monthly_budget_minor, spend_today, spend_month),
            now,
        ),
        spend_today=spend_today,
        spend_month=spend_month,
        windows=windows,
        window_lines=tuple(describe_windows(windows)),
        strip=tuple(strip_rows(upcoming, campaign, local_now)),
        history=history,
        editable=can_edit and campaign.archived_at is None and brand.archived_at is None,
        amount_placeholder=format_amount(1250 * 10 ** exponent(brand.currency) // 100, brand.currency),
    )


def _newest_first(campaign_id: int):
    return (
        select(CampaignEvent)
        .where(CampaignEvent.campaign_id == campaign_id)
        .order_by(CampaignEvent.at.desc(), CampaignEvent.id.desc())
    )


def _history(session: Session, campaign_id: int, page: int) -> HistoryPage:
    total = session.scalar(select(func.count(CampaignEvent.id)).where(CampaignEvent.campaign_id == campaign_id))
    items = session.scalars(_newest_first(campaign_id).limit(HISTORY_PER_PAGE).offset((page - 1) * HISTORY_PER_PAGE))
    return HistoryPage(tuple(items), page, HISTORY_PER_PAGE, total or 0)


def _latest(session: Session, campaign_id: int) -> CampaignEvent | None:
    return session.scalars(_newest_first(campaign_id).limit(1)).first()


def describe_windows(windows: tuple[Window, ...]) -> list[str]:
    """Lines like "Mon–Fri 09:00–17:30" (consecutive days with the same hours are joined)."""
    per_day = [tuple((w.start, w.end) for w in merge_windows(windows) if w.day == day) for day in range(7)]
    lines = []
    day = 0
    while day < 7:
        last = day
        while last + 1 < 7 and per_day[last + 1] == per_day[day]:
            last += 1
        if per_day[day]:
            days = DAY_NAMES[day].title() if last == day else f"{DAY_NAMES[day].title()}–{DAY_NAMES[last].title()}"
            hours = ", ".join(f"{format_minutes(s)}–{format_minutes(e)}" for s, e in per_day[day])
            lines.append(f"{days} {hours}")
        day = last + 1
    return lines


def duration_text(delta: timedelta) -> str:
    """'2 h 30 min', '3 h' or '45 min'."""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def interval_text(interval: RunInterval) -> str:
    """'09:00–17:30' in local wall-clock time; both offsets named when the run crosses a DST change."""
    start = interval.start.strftime("%H:%M")
    end = "24:00" if interval.end_minute == DAY_MINUTES else interval.end.strftime("%H:%M")
    if interval.start.utcoffset() != interval.end.utcoffset():
        start += interval.start.strftime(" %Z")
        end += interval.end.strftime(" %Z")
    return f"{start}–{end}"


def strip_rows(upcoming: list[UpcomingDay], campaign: Campaign, local_now: datetime) -> list[StripRow]:
    """The "next 7 days" rows: bars placed by wall-clock minute, with the same intervals in words."""
    rows = []
    for offset, day in enumerate(upcoming):
        if day.intervals:
            empty = None
        elif campaign.archived_at is not None:
            empty = "Archived"
        elif not campaign.enabled:
            empty = "Switched off"
        elif not in_flight(campaign.start_date, campaign.end_date, day.day):
            empty = "Outside its flight dates"
        elif offset == 0:
            empty = "No more scheduled hours today"
        else:
            empty = "No scheduled hours"
        prefix = "Today · " if offset == 0 else ("Tomorrow · " if offset == 1 else "")
        rows.append(
            StripRow(
                label=prefix + day.day.strftime("%a %d %b"),
                bars=tuple(
                    StripBar(
                        left=round(i.start_minute * 100 / DAY_MINUTES, 3),
                        width=round(max(i.end_minute - i.start_minute, 1) * 100 / DAY_MINUTES, 3),
                        text=interval_text(i),
                    )
                    for i in day.intervals
                ),
                total=duration_text(day.total) if day.intervals else None,
                empty=empty,
                now=round((local_now.hour * 60 + local_now.minute) * 100 / DAY_MINUTES, 3) if offset == 0 else None,
            )
        )
    return rows
