"""Operator commands: ``flask --app app <command>``. Thin: parse, call a service, print.

Every command exits non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup

from app.cli_monitor import COMMANDS as MONITOR_COMMANDS
from app.cli_monitor import event_line
from app.extensions import db
from app.health import check_health
from app.ingest.timestamps import TimestampError, parse_instant
from app.jobs import upload_retention
from app.models import ROLES, Brand, Campaign, CampaignEvent, SpendImport, utcnow
from app.money import display_amount, format_money
from app.services import demo
from app.services import platforms as connectors
from app.services import reconcile as rec
from app.services.campaigns import CampaignError, CampaignLocked, record_manual_spend
from app.services.catalog import CatalogError, day_number, load_fixtures
from app.services.demo import DEMO_USERS, seed_demo
from app.services.enforcement import commit_and_enforce
from app.services.imports import (
    FormatError,
    ImportOutcome,
    ImportProgress,
    RetryRefused,
    SpendFileError,
    create_import,
    earlier_import,
    file_format,
    prepare_retry,
    prune_uploads,
    run_import,
)
from app.services.random_spend import RandomSpendError, parse_range, spend_at_random
from app.services.simulate import SimulationError, dayparting_at, parse_step, simulate
from app.services.status import campaign_states
from app.services.users import UserError, create_user

UTC_ZONE = ZoneInfo("UTC")

JOBS = {
    # The operator names of the system Pacer replaces; both run the one sweep.
    "enforce-budgets": rec.sweep,
    "apply-dayparting": rec.sweep,
    "reset-daily": rec.reset_daily,
    "reset-monthly": rec.reset_monthly,
    # The full sweep: every campaign checked in a few set-based queries, the brands out of step reconciled.
    "reconcile": lambda session, now, dry_run=False: rec.full_sweep(session, now, actor="cli", dry_run=dry_run),
}


def parse_cli_instant(text: str | None, option: str) -> datetime:
    """An ISO 8601 instant for --at/--from/--to; without an offset it is read as UTC."""
    if text is None:
        return utcnow()
    if not text.strip():
        raise click.BadParameter("is empty; give an ISO 8601 instant like 2026-03-08T14:30:00Z", param_hint=option)
    try:
        return parse_instant(text, UTC_ZONE)
    except TimestampError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def fail(message: str) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


def print_changes(changes: list[rec.Change], dry_run: bool = False) -> None:
    for change in changes:
        click.echo(("[dry run] " if dry_run else "") + change.describe())
    click.echo(f"{len(changes)} change{'s' if len(changes) != 1 else ''}{' (nothing written)' if dry_run else ''}.")


def commit_and_report(actor: str) -> None:
    """Commit, enforce the brands the write named (app.services.enforcement), and say what happened."""
    enforcement = commit_and_enforce(db.session, actor=actor)
    if enforcement.state:
        click.echo(enforcement.message())
    for change in enforcement.changes:
        click.echo(change.describe())


fixtures_cli = AppGroup("fixtures", help="Brands, campaigns and schedules from JSON.")


@fixtures_cli.command("load")
@click.argument("file", type=click.File("rb"))
def fixtures_load(file) -> None:
    """Create or update brands, campaigns and schedules by name from FILE.json, then enforce them at once."""
    try:
        data = json.loads(file.read().decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file.name} is not valid JSON: {exc}")
    try:
        summary = load_fixtures(db.session, data, utcnow())
    except CatalogError as exc:
        db.session.rollback()
        fail(f"{file.name} has {len(exc.problems)} problem(s), nothing was loaded:\n  " + "\n  ".join(exc.problems))
    click.echo(f"Loaded {file.name}: {summary.describe()}.")
    commit_and_report("fixtures")


@click.command("seed-demo")
@click.option(
    "--logins/--no-logins", default=True, help="Print the demo logins (`make run` prints them in its banner)."
)
def seed_demo_command(logins: bool) -> None:
    """Load the demo brands, campaigns, spend and users once; running it again changes nothing."""
    now = utcnow()
    summary = seed_demo(db.session, now)
    if summary is None:
        db.session.commit()
        click.echo("Demo data is already loaded; nothing changed.")
        return
    click.echo(f"Demo data loaded: {summary.describe()}.")
    commit_and_enforce(db.session, actor="seed-demo", now=now)
    if logins:
        for email, role, password in DEMO_USERS:
            click.echo(f"  {role:8} {email} / {password}")


spend_cli = AppGroup("spend", help="Record or import spend.")
# The option of `spend record` that carries each field the spend rule checks.
SPEND_OPTIONS = {"amount": "--amount", "spent_at": "--at", "external_id": "--external-id", "period": "--period"}


def _find_campaign(brand_name: str, campaign_name: str) -> Campaign:
    brand = db.session.scalar(db.select(Brand).where(Brand.name == brand_name, Brand.archived_at.is_(None)))
    if brand is None:
        fail(f"no brand named {brand_name!r}")
    campaign = next((c for c in brand.campaigns if c.name == campaign_name and c.archived_at is None), None)
    if campaign is None:
        fail(f"brand {brand_name!r} has no campaign {campaign_name!r}")
    return campaign


@spend_cli.command("record")
@click.option("--brand", required=True, help="Brand name.")
@click.option("--campaign", required=True, help="Campaign name within the brand.")
@click.option("--amount", required=True, help="Amount in the brand's currency, e.g. 12.34.")
@click.option(
    "--at", "at", default=None, help="When it was spent (ISO 8601; without an offset, brand-local time). Default: now."
)
@click.option("--external-id", default=None, help="Platform id; recording the same id twice adds nothing.")
@click.option(
    "--period",
    type=click.Choice(["day", "hour"]),
    default=None,
    help="The amount is the platform's figure for the brand-local day (--at 2026-11-05) or hour "
    "(--at '2026-11-05 14:00'); it replaces the figure recorded before for that period.",
)
def spend_record(
    brand: str, campaign: str, amount: str, at: str | None, external_id: str | None, period: str | None
) -> None:
    """Record one spend and enforce the brand's budgets at once."""
    target = _find_campaign(brand, campaign)
    try:
        outcome = record_manual_spend(
            db.session,
            target,
            amount=amount,
            spent_at=at or "",
            external_id=external_id or "",
            now=utcnow(),
            period=period or "",
        )
    except CampaignLocked as exc:
        fail(str(exc))
    except CampaignError as exc:
        field, messages = next(iter(exc.errors.items()))
        raise click.BadParameter(" ".join(messages), param_hint=SPEND_OPTIONS.get(field, field)) from None
    if outcome.period_outcome is not None:
        click.echo(
            f"{period.capitalize()} figure {amount} {target.brand.currency} for {brand} / {campaign} from "
            f"{outcome.spent_at.isoformat()}: {outcome.period_outcome}."
        )
        commit_and_report("spend")
        return
    if not outcome.inserted:
        db.session.rollback()
        click.echo(f"Spend with external id {external_id!r} is already recorded; nothing added.")
        return
    click.echo(
        f"Recorded {format_money(outcome.amount_minor, target.brand.currency)} for {brand} / {campaign} "
        f"at {outcome.spent_at.isoformat()}."
    )
    commit_and_report("spend")


@spend_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-bad-rows", is_flag=True, help="Import the good rows and report the bad ones (default: all or nothing)."
)
@click.option(
    "--format",
    "format_name",
    default=None,
    help="Read the file in this format: pacer, google_ads, meta or a saved format's name (default: recognised).",
)
@click.option("--brand", default=None, help="The brand of every row (for a report without an account name column).")
def spend_import(file: Path, skip_bad_rows: bool, format_name: str | None, brand: str | None) -> None:
    """Import a spend CSV (brand,campaign,amount,spent_at[,external_id][,currency][,period]), a Google Ads or Meta
    report download, or a file in a saved format.

    The format is recognised from the header (a report's title lines skipped); --format NAME forces one.
    A report without an account name column needs --brand NAME. The same path as an upload, run in this
    process with a progress bar on stderr; a failed import can be run again with `spend retry ID`.
    """
    try:
        chosen_format, brand_id = file_format(db.session, file.resolve(), format_name=format_name, brand_name=brand)
    except (FormatError, SpendFileError) as exc:
        fail(str(exc))
    spend_import_row = create_import(
        db.session,
        file.resolve(),
        filename=file.name,
        actor="cli",
        skip_bad_rows=skip_bad_rows,
        format_name=chosen_format,
        brand_id=brand_id,
    )
    db.session.commit()
    _run_and_report(spend_import_row)


@spend_cli.command("retry")
@click.argument("import_id", type=int)
def spend_retry(import_id: int) -> None:
    """Run import IMPORT_ID again from its stored file, here; it adds exactly the rows that are missing.

    For an import that failed (its worker stopped, an error) or never started; refused
    while it still runs or once it has finished.
    """
    spend_import_row = db.session.get(SpendImport, import_id)
    if spend_import_row is None:
        fail(f"no spend import #{import_id}")
    try:
        prepare_retry(db.session, spend_import_row, utcnow())
    except RetryRefused as exc:
        db.session.rollback()
        fail(str(exc))
    click.echo(f"Retrying import #{import_id} ({spend_import_row.filename}).")
    _run_and_report(spend_import_row)


@spend_cli.command("simulate")
@click.option("--min", "minimum", required=True, help="Smallest amount, in each brand's own currency, e.g. 5.00.")
@click.option("--max", "maximum", required=True, help="Largest amount, in each brand's own currency, e.g. 50.00.")
@click.option("--seed", type=int, default=None, help="Random seed, to repeat the same amounts.")
def spend_simulate(minimum: str, maximum: str, seed: int | None) -> None:
    """Record a random spend between --min and --max for every campaign active now, then enforce at once
    (`make simulate-spend MIN= MAX=`, as in the system Pacer replaces)."""
    try:
        low, high = parse_range(minimum, maximum)
    except RandomSpendError as exc:
        raise click.BadParameter(str(exc), param_hint="--min" if str(exc).startswith("MIN") else "--max") from None
    result = spend_at_random(db.session, utcnow(), low, high, random.Random(seed))
    for brand in result.skipped_brands:
        click.echo(f"Skipped {brand}: no amount between {low} and {high} fits its currency's decimals.")
    if not result.spends:
        db.session.rollback()
        click.echo("No campaign is active now, so no spend was recorded (see `flask --app app status`).")
        return
    for spend in result.spends:
        click.echo(f"Recorded {display_amount(spend.amount)} {spend.currency} for {spend.brand} / {spend.campaign}.")
    click.echo(f"{len(result.spends)} spend{'s' if len(result.spends) != 1 else ''} recorded.")
    commit_and_report("simulate-spend")


@spend_cli.command("prune-uploads")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep uploads this many days after their import ended. Default: PACER_UPLOAD_RETENTION_DAYS (30).",
)
def spend_prune_uploads(days: int | None) -> None:
    """Delete the stored upload files whose import ended more than the retention ago (the periodic sweep does
    this too); each import keeps its result, counts and rejected rows."""
    settings = upload_retention(current_app)
    if days is not None:
        settings["retention_days"] = days
    result = prune_uploads(db.session, utcnow(), **settings)
    ids = ", ".join(f"#{import_id}" for import_id in result.deleted)
    click.echo(
        f"Deleted {len(result.deleted)} stored upload{'s' if len(result.deleted) != 1 else ''} "
        f"kept more than {settings['retention_days']} days after their import ended"
        + (f" ({ids}; {result.bytes_freed:,} bytes freed)." if result.deleted else ".")
    )


def _run_and_report(spend_import_row: SpendImport) -> None:
    """Run a queued import here with a progress bar on stderr, print its outcome, enforce; exit 1 unless done."""
    import_id = spend_import_row.id
    outcome = _run_with_progress(import_id, spend_import_row.filename, spend_import_row.size_bytes)
    for error in outcome.errors:
        click.echo(f"line {error.line}: {error.message}", err=True)
    click.echo(
        f"Import #{import_id} {outcome.status}: {outcome.rows_read} rows read, {outcome.imported} imported, "
        f"{outcome.duplicates} duplicates, {outcome.rejected} rejected."
        + (
            f" Period figures: {outcome.replaced} replaced, {outcome.corrected} corrected (lowered), "
            f"{outcome.unchanged} unchanged."
            if outcome.replaced or outcome.corrected or outcome.unchanged
            else ""
        )
    )
    if outcome.message:
        click.echo(outcome.message)
    earlier = earlier_import(db.session, db.session.get(SpendImport, import_id))
    if earlier is not None:
        click.echo(
            f"This file was already imported on {earlier.created_at:%Y-%m-%d %H:%M} UTC as import #{earlier.id}."
        )
    commit_and_report("spend-import")
    if outcome.status != "done":
        sys.exit(1)


def _run_with_progress(import_id: int, filename: str, size: int) -> ImportOutcome:
    with click.progressbar(
        length=max(size, 1),
        label=f"Importing {filename}",
        file=sys.stderr,
        item_show_func=lambda rows: f"{rows:,} rows" if rows else None,
    ) as bar:

        def report(progress: ImportProgress) -> None:
            bar.update(max(progress.bytes_read - bar.pos, 0), progress.rows_read)

        try:
            return run_import(db.session, import_id, progress=report)
        except Exception as exc:  # run_import rolled back and marked the import failed
            fail(
                f"import #{import_id} failed ({type(exc).__name__}: {exc}); nothing was imported. "
                f"Run `flask --app app spend retry {import_id}` to try again."
            )


jobs_cli = AppGroup("jobs", help="Run Pacer's jobs in this process.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(list(JOBS)))
@click.option(
    "--at", "at", default=None, help="Run as of this instant (ISO 8601; without an offset, UTC). Default: now."
)
@click.option("--dry-run", is_flag=True, help="Show the changes without writing them.")
def jobs_run(name: str, at: str | None, dry_run: bool) -> None:
    """Run job NAME now, or as of --at, and print each change."""
    now = parse_cli_instant(at, "--at")
    print_changes(JOBS[name](db.session, now, dry_run=dry_run), dry_run)


@click.command("status")
@click.option("--brand", default=None, help="Only this brand.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--at",
    "at",
    default=None,
    help="Show the spend of the brand-local day and month containing this instant (ISO 8601; default now).",
)
def status_command(brand: str | None, as_json: bool, at: str | None) -> None:
    """The stored state of every campaign, with its brand's spend today and this month."""
    try:
        states = campaign_states(db.session, parse_cli_instant(at, "--at"), brand_name=brand)
    except LookupError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(states, indent=2))
        return
    if not states:
        click.echo("No campaigns yet. Load some with `flask --app app fixtures load FILE.json`.")
        return
    for s in states:
        reasons = ", ".join(s["reasons"]) or "-"
        click.echo(
            f"{s['brand'][:24]:24} {s['campaign'][:28]:28} {s['status']:6}  {reasons:36} "
            f"today {display_amount(s['spend_today'])}/{display_amount(s['daily_budget'])}  "
            f"month {display_amount(s['spend_month'])}/{display_amount(s['monthly_budget'])} {s['currency']}"
        )


@click.command("simulate")
@click.option("--from", "start", required=True, help="Start instant (ISO 8601; without an offset, UTC).")
@click.option("--to", "end", required=True, help="End instant (ISO 8601; without an offset, UTC).")
@click.option("--step", default="15m", show_default=True, help="Evaluation step: 30s, 15m, 1h, 1d.")
@click.option(
    "--spend", "spend_file", type=click.File("rb"), default=None, help="Spend CSV to replay on top of stored spend."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per state change.")
def simulate_command(start: str, end: str, step: str, spend_file, as_json: bool) -> None:
    """Replay the rule from --from to --to; prints every change of status or reasons. Writes nothing."""
    try:
        changes = simulate(
            db.session,
            parse_cli_instant(start, "--from"),
            parse_cli_instant(end, "--to"),
            step=parse_step(step),
            spend_file=spend_file,
        )
        for change in changes:
            if as_json:
                click.echo(json.dumps(change.as_json()))
            else:
                reasons = ", ".join(change.reasons) or "-"
                click.echo(f"{change.as_json()['at']}  {change.brand} / {change.campaign}: {change.status} ({reasons})")
    except SimulationError as exc:
        fail(str(exc))
    finally:
        db.session.rollback()


@click.command("simulate-time")
@click.option("--hour", required=True, type=click.IntRange(0, 23), help="Local hour, 0-23 (each brand's own zone).")
@click.option("--day", required=True, help="Weekday: mon..sun, monday..sunday or 0..6 (0 = Monday).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per campaign.")
def simulate_time_command(hour: int, day: str, as_json: bool) -> None:
    """Dry run: what dayparting would do at --hour:00 on --day, local to each brand, with spend as it
    stands now. Writes nothing."""
    weekday = day_number(day)
    if weekday is None:
        raise click.BadParameter(f"{day!r} is not a weekday: use mon..sun, monday..sunday or 0..6", param_hint="--day")
    try:
        checks = dayparting_at(db.session, utcnow(), weekday=weekday, hour=hour)
    finally:
        db.session.rollback()
    for check in checks:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "brand": check.brand,
                        "campaign": check.campaign,
                        "local": check.local.isoformat(timespec="minutes"),
                        "at": check.at.isoformat().replace("+00:00", "Z"),
                        "status_now": check.status_now,
                        "reasons_now": list(check.reasons_now),
                        "status": check.status,
                        "reasons": list(check.reasons),
                        "window": check.window,
                    }
                )
            )
            continue
        would = f"{check.status} ({', '.join(check.reasons) or 'all rules pass'})"
        change = f"{check.status_now} -> {would}" if check.changes else f"stays {would}"
        click.echo(
            f"{check.local:%a %H:%M} {check.timezone:20} {check.brand} / {check.campaign}: {change}"
            + (f"  [window {check.window[4:]}]" if check.window else "")
        )
    if not as_json:
        moved = sum(check.changes for check in checks)
        plural = "s" if len(checks) != 1 else ""
        click.echo(f"{moved} of {len(checks)} campaign{plural} would change (nothing written).")


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of /healthz.")
def health_command(as_json: bool) -> None:
    """The checks of /healthz (the same service): database, Redis, workers per queue, scheduler.

    Exits 1 when one fails."""
    healthy, report = check_health(db.session)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"database   {report['database']}")
        click.echo(f"redis      {report['redis']}")
        click.echo(f"workers    {report['workers']} live")
        for name, queue in report["queues"].items():
            queued = "?" if queue["queued"] is None else queue["queued"]
            click.echo(f"queue      {name}: {queue['status']} ({queue['workers']} workers, {queued} queued)")
        click.echo(f"scheduler  {report['scheduler']}")
        click.echo("healthy" if healthy else f"FAILING: {', '.join(report['failing'])}")
    sys.exit(0 if healthy else 1)


@click.command("reset-database")
@click.option("--yes", is_flag=True, help="Do not ask (needed without a terminal).")
def reset_database_command(yes: bool) -> None:
    """Delete every brand, campaign, spend, import and user: migrate the database down to nothing and up
    again, and delete the stored uploads. Asks first."""
    from flask_migrate import downgrade, upgrade

    where = db.engine.url.render_as_string(hide_password=True)
    if not yes:
        if not sys.stdin.isatty():
            fail(
                "refusing to reset the database without a terminal to ask on; "
                "pass --yes (make db-reset CONFIRM=yes) if you mean it"
            )
        click.confirm(f"Delete everything in {where} and the stored uploads?", abort=True)
    db.session.remove()
    downgrade(revision="base")
    upgrade()
    shutil.rmtree(current_app.config["UPLOAD_FOLDER"], ignore_errors=True)
    click.echo(f"Reset {where}: empty, at the latest migration. Load the demo with `flask --app app seed-demo`.")


demo_cli = AppGroup("demo", help="The demonstration of the system Pacer replaces.")


@demo_cli.command("run")
@click.option("--url", default=None, help="Where Pacer's pages are. Default: http://127.0.0.1:$PORT (5000).")
@click.option(
    "--wait",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the running stack's worker to pause the over-budget brand.",
)
@click.option("--seed", type=int, default=None, help="Random seed for the normal spend.")
def demo_run(url: str | None, wait: float, seed: int | None) -> None:
    """On the running stack (`make run`): demo data, normal spend, one brand pushed over its daily budget,
    a dayparting change and the next daily reset (a dry run); then what happened and the pages to look at."""
    base = (url or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}").rstrip("/")
    started = utcnow()
    first_event = (db.session.scalar(db.select(db.func.max(CampaignEvent.id))) or 0) + 1
    try:
        _demo_steps(wait, random.Random(seed))
    except demo.DemoError as exc:
        db.session.rollback()
        fail(str(exc))
    events = db.session.scalars(
        db.select(CampaignEvent).where(CampaignEvent.id >= first_event).order_by(CampaignEvent.id)
    ).all()
    click.echo(
        f"\nWhat happened since {started:%H:%M:%S} UTC ({len(events)} campaign change"
        f"{'s' if len(events) != 1 else ''}):"
    )
    for event in events:
        click.echo(f"  {event_line(event)}")
    over = demo.demo_brand(db.session, demo.OVER_BUDGET_BRAND)
    dayparted = demo.demo_brand(db.session, demo.DAYPARTING_BRAND)
    campaign = next(c for c in dayparted.campaigns if c.name == demo.DAYPARTING_CAMPAIGN)
    with current_app.test_request_context():
        pages = [
            ("overview", url_for("dashboard.overview")),
            (f"{over.name} (over budget)", url_for("brands.show", brand_id=over.id)),
            (f"{dayparted.name} / {campaign.name} (new schedule)", url_for("campaigns.show", campaign_id=campaign.id)),
            ("activity log", url_for("activity.index")),
        ]
    click.echo("\nPages to look at (log in as manager@pacer.local / pacer-manager):")
    for label, path in pages:
        click.echo(f"  {label:48} {base}{path}")


def _demo_steps(wait: float, rng: random.Random) -> None:
    now = utcnow()
    click.echo("1. Demo data")
    summary = seed_demo(db.session, now)
    click.echo(f"   loaded: {summary.describe()}." if summary else "   already loaded.")
    commit_and_enforce(db.session, actor="seed-demo", now=now)

    click.echo("2. Normal spend on the campaigns running now (every brand stays under its daily budget)")
    spends = demo.normal_spend(db.session, utcnow(), rng)
    for spend in spends:
        click.echo(f"   {spend.brand} / {spend.campaign}: {display_amount(spend.amount)} {spend.currency}")
    click.echo("   none: no campaign is running now." if not spends else f"   {len(spends)} spends recorded.")
    _demo_enforce()

    click.echo(f"3. {demo.OVER_BUDGET_BRAND} pushed over its daily budget")
    spend = demo.push_over_daily_budget(db.session, utcnow())
    click.echo(f"   {spend.brand} / {spend.campaign}: {display_amount(spend.amount)} {spend.currency}")
    _demo_enforce(wait_for_brand=demo.OVER_BUDGET_BRAND, wait=wait)

    click.echo(f"4. Dayparting: {demo.DAYPARTING_BRAND} / {demo.DAYPARTING_CAMPAIGN} gets a new schedule")
    change = demo.change_dayparting(db.session, utcnow())
    click.echo(
        f"   now runs {change.describe()} ({demo.DAYPARTING_BRAND}'s local time); "
        f"{'it is paused until then' if change.campaign.status == 'paused' else 'it runs now'}."
    )
    commit_and_enforce(db.session, actor=demo.DEMO_ACTOR)

    click.echo(f"5. The next daily reset of {demo.OVER_BUDGET_BRAND}, at its local midnight (dry run: nothing written)")
    brand, midnight, changes = demo.preview_daily_reset(db.session, utcnow())
    click.echo(f"   at {midnight:%Y-%m-%d %H:%M} UTC, 00:00 in {brand.timezone}; the scheduler does it then:")
    for line in changes or []:
        click.echo(
            f"   {line.campaign}: {line.old_status} ({', '.join(line.old_reasons)}) -> {line.new_status} "
            f"({', '.join(line.new_reasons) or 'all rules pass'})"
        )
    if not changes:
        click.echo("   no campaign changes.")


def _demo_enforce(wait_for_brand: str | None = None, wait: float = 0) -> None:
    """Commit and enforce; for ``wait_for_brand``, wait up to ``wait`` s for the stack's worker to pause it for
    its daily budget, and enforce here if it does not (the queued job then finds nothing to change)."""
    enforcement = commit_and_enforce(db.session, actor=demo.DEMO_ACTOR)
    if enforcement.state != "queued":
        if enforcement.state:
            click.echo(f"   {enforcement.message()}")
        return
    if wait_for_brand is None:
        click.echo("   queued for the worker.")
        return
    deadline = time.monotonic() + wait
    while True:
        db.session.rollback()  # see the worker's commits
        brand = demo.demo_brand(db.session, wait_for_brand)
        if any("daily_budget" in c.reasons for c in brand.campaigns if c.archived_at is None):
            click.echo("   the worker paused it within seconds.")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    changes = rec.reconcile_brands(db.session, utcnow(), actor=demo.DEMO_ACTOR, brand_ids=[brand.id])
    click.echo(
        f"   no worker paused it within {wait:g} s (is `make run` running?); enforced here instead: "
        f"{len(changes)} change{'s' if len(changes) != 1 else ''}."
    )


users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.password_option(help="Password (prompted when omitted).")
def users_create(email: str, role: str, password: str) -> None:
    """Create a user who can log in with EMAIL."""
    try:
        user = create_user(db.session, email, password, role)
    except UserError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


connectors_cli = AppGroup("connectors", help="Ad-platform connections: the key, the campaign mapping, pulls.")


@connectors_cli.command("new-key")
def connectors_new_key() -> None:
    """Print a new Fernet key for PACER_CONNECTOR_KEY (it encrypts the stored platform credentials)."""
    click.echo(connectors.new_key())


@connectors_cli.command("import-mapping")
@click.argument("file", type=click.File("rb"))
def connectors_import_mapping(file) -> None:
    """Link campaigns to platform campaign ids from FILE.csv (brand,campaign,platform,account_id,
    platform_campaign_id; an empty id removes the link). Any bad row: nothing is imported."""
    try:
        text = file.read().decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{file.name} is not UTF-8 text")
    result = connectors.import_mapping(db.session, text)
    if result.errors:
        db.session.rollback()
        for error in result.errors:
            click.echo(error, err=True)
        fail(f"nothing imported: {len(result.errors)} bad row{'s' if len(result.errors) != 1 else ''}")
    db.session.commit()
    click.echo(
        f"{result.linked} linked, {result.changed} changed, {result.removed} removed, {result.unchanged} unchanged."
    )


@connectors_cli.command("pull")
@click.argument("connection_id", type=int, required=False)
def connectors_pull(connection_id: int | None) -> None:
    """Pull hourly spend now for one connection (or every one), then enforce the brands it changed."""
    settings = connectors.ConnectorSettings.from_config(current_app.config)
    ids = [connection_id] if connection_id is not None else connectors.pullable_connections(db.session)
    failed = 0
    with connectors.client(settings) as http:
        build = connectors.connector_factory(settings, http)
        for one in ids:
            try:
                result = connectors.pull_connection(db.session, one, utcnow(), settings, build)
            except LookupError:
                fail(f"no connection has the id {one}")
            commit_and_report("cli:connectors pull")
            failed += not result.ok
            click.echo(
                f"connection {one}: "
                + (
                    f"{result.rows} hour rows read, {result.written} new, {result.restated} restated, "
                    f"{result.unmapped} unmapped, {result.refused} refused (the day is kept as a day figure)"
                    if result.ok
                    else f"failed: {result.error}"
                )
            )
    if failed:
        sys.exit(1)


def register(app: Flask) -> None:
    for command in MONITOR_COMMANDS:
        app.cli.add_command(command)
    for command in (
        fixtures_cli,
        seed_demo_command,
        spend_cli,
        jobs_cli,
        status_command,
        simulate_command,
        users_cli,
        simulate_time_command,
        health_command,
        reset_database_command,
        demo_cli,
        connectors_cli,
    ):
        app.cli.add_command(command)
    app.shell_context_processor(_shell_context)


def _shell_context() -> dict:
    """What `flask --app app shell` (make shell) starts with."""
    from app import models

    return {
        "db": db,
        "session": db.session,
        "utcnow": utcnow,
        **{
            name: getattr(models, name)
            for name in ("Brand", "Campaign", "SpendRecord", "SpendImport", "CampaignEvent", "User")
        },
    }
