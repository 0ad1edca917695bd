"""Live views for operators: `monitor` (every brand now) and `log` (the audit log, optionally followed)."""

from __future__ import annotations

import time

import click
from sqlalchemy import select

from app.extensions import db
from app.models import Brand, CampaignEvent, utcnow
from app.money import format_grouped
from app.services.totals import spend_today_and_month


def event_line(event: CampaignEvent) -> str:
    reasons = event.new_reasons.replace(",", ", ") or "all rules pass"
    return (
        f"{event.at:%Y-%m-%d %H:%M:%S}Z  {event.brand.name} / {event.campaign.name}: "
        f"{event.old_status or 'new'} -> {event.new_status} ({reasons})  [{event.actor}]"
    )


def _percent(spent: int, budget: int) -> str:
    return "capped" if budget == 0 else f"{spent * 100 // budget:>3}%"


def render_monitor() -> str:
    """One screen: each brand's spend against its budgets and campaign counts, then the latest changes."""
    now = utcnow()
    lines = [f"Pacer monitor · {now:%Y-%m-%d %H:%M:%S} UTC", ""]
    lines.append(f"{'brand':28} {'today':>22} {'':>6} {'month':>24} {'':>6} {'active':>6} {'paused':>6}")
    brands = db.session.scalars(select(Brand).where(Brand.archived_at.is_(None)).order_by(Brand.name)).all()
    for brand in brands:
        today, month = spend_today_and_month(db.session, brand, now)
        live = [c for c in brand.campaigns if c.archived_at is None]
        active = sum(c.status == "active" for c in live)
        money = lambda minor, currency=brand.currency: format_grouped(minor, currency)  # noqa: E731
        lines.append(
            f"{brand.name[:28]:28} {money(today) + '/' + money(brand.daily_budget_minor):>22} "
            f"{_percent(today, brand.daily_budget_minor):>6} "
            f"{money(month) + '/' + money(brand.monthly_budget_minor):>24} "
            f"{_percent(month, brand.monthly_budget_minor):>6} "
            f"{active:>6} {len(live) - active:>6}"
        )
    if not brands:
        lines.append("  no brands yet: `flask --app app seed-demo` or `fixtures load FILE.json`")
    lines += ["", "Latest changes:"]
    events = db.session.scalars(select(CampaignEvent).order_by(CampaignEvent.id.desc()).limit(10)).all()
    lines += [f"  {event_line(e)}" for e in events] or ["  none yet"]
    return "\n".join(lines)


@click.command("monitor")
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5), help="Seconds between refreshes."
)
@click.option("--once", is_flag=True, help="Print one screen and exit.")
def monitor_command(interval: float, once: bool) -> None:
    """A live view of every brand's spend, budgets and campaign states (Ctrl-C to stop)."""
    try:
        while True:
            screen = render_monitor()
            db.session.rollback()  # see other processes' writes on the next refresh
            if once:
                click.echo(screen)
                return
            click.clear()
            click.echo(screen)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


@click.command("log")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1, max=10_000))
@click.option("--brand", default=None, help="Only this brand.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new changes as they happen (Ctrl-C to stop).")
def log_command(limit: int, brand: str | None, follow: bool) -> None:
    """The audit log of campaign changes, newest last."""
    stmt = select(CampaignEvent).order_by(CampaignEvent.id.desc())
    if brand:
        brand_id = db.session.scalar(select(Brand.id).where(Brand.name == brand))
        if brand_id is None:
            raise click.BadParameter(f"no brand named {brand!r}", param_hint="--brand")
        stmt = stmt.where(CampaignEvent.brand_id == brand_id)
    events = list(reversed(db.session.scalars(stmt.limit(limit)).all()))
    for event in events:
        click.echo(event_line(event))
    last_id = events[-1].id if events else 0
    try:
        while follow:
            db.session.rollback()
            for event in db.session.scalars(
                stmt.where(CampaignEvent.id > last_id).order_by(None).order_by(CampaignEvent.id)
            ):
                click.echo(event_line(event))
                last_id = event.id
            time.sleep(1)
    except KeyboardInterrupt:
        pass


COMMANDS = (monitor_command, log_command)
