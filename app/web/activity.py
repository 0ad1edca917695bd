"""Activity log: every campaign event, filtered and paginated, and the same list as a streamed CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.extensions import db
from app.models import Brand, Campaign, utcnow
from app.money import display_amount
from app.services import live as live_service
from app.services.activity import (
    COUNT_CAP,
    EXPORT_HEADER,
    KINDS,
    REASONS,
    ActivityFilter,
    brand_choices,
    campaign_choices,
    events_page,
    export_rows,
    parse_cursor,
)
from app.services.brands import valid_timezone
from app.services.zone_names import canonical_zone, zone_choices
from app.web import brand_picker, live
from app.web.brand_picker import BRAND_SELECT_MAX
from app.web.csv_export import csv_response
from app.web.filters import REASON_WORDS
from app.web.pagination import page_number

bp = Blueprint("activity", __name__)

PER_PAGE = 50
MAX_PAGE = 100_000  # far past any real log; keeps the OFFSET inside a 64-bit integer


ZONE_KEY = "activity_zone"
MAX_ID = 2**31 - 1  # brand and campaign ids are INTEGER columns (32-bit on PostgreSQL)


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError("not an id")
    return number


class DayField(DateField):
    """A YYYY-MM-DD date with a message a person can act on."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Use a date like 2026-11-25 (year-month-day).") from None


class ActivityFilterForm(FlaskForm):
    """The filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    brand = SelectField("Brand", coerce=_optional_int, validate_choice=False)
    brand_name = StringField("Brand", validators=[Length(max=200)])
    campaign = SelectField("Campaign", coerce=_optional_int, validate_choice=False)
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Any reason")] + [SelectChoice(r, REASON_WORDS.get(r, r)) for r in REASONS],
        validate_choice=False,
    )
    actor = StringField("Actor contains", validators=[Optional(), Length(max=120)])
    kind = SelectField(
        "Changed by",
        choices=[
            SelectChoice("", "Either"),
            SelectChoice("automatic", "Automatic only"),
            SelectChoice("manual", "Manual only"),
        ],
        validate_choice=False,
    )
    date_from = DayField("From (UTC)", validators=[Optional()])
    date_to = DayField("To (UTC)", validators=[Optional()])
    # Every time on the page, and the dates above, are in this zone (remembered for the viewer's session).
    tz = StringField(
        "Times in",
        validators=[Optional(), Length(max=64)],
        render_kw={"list": "timezone-list", "autocomplete": "off", "spellcheck": "false"},
    )

    def validate_tz(self, field):
        if field.data and not valid_timezone(field.data.strip()):
            raise ValidationError(f"“{field.data}” is not a time zone; pick one from the list, e.g. Europe/London.")

    def validate_brand(self, field):
        if self.brand_select and field.data is not None and field.data not in self._brand_ids:
            raise ValidationError("There is no such brand.")

    def validate_brand_name(self, field):
        if not self.brand_select and self.brand.data is not None and self.brand.data not in self._brand_ids:
            raise ValidationError("There is no such brand.")  # a link's id
        if self._name_error:
            raise ValidationError(self._name_error)

    def validate_reason(self, field):
        if field.data and field.data not in REASONS:
            raise ValidationError("Choose one of the listed reasons.")

    def validate_kind(self, field):
        if field.data and field.data not in KINDS:
            raise ValidationError("Choose automatic, manual, or both.")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and self.date_from.data > field.data:
            raise ValidationError("The end date is before the start date.")

    def to_filter(self) -> ActivityFilter:
        return ActivityFilter(
            brand_id=self.brand.data,
            campaign_id=self.campaign.data,
            reason=self.reason.data or None,
            actor=(self.actor.data or "").strip() or None,
            kind=self.kind.data or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            zone=self.zone,
        )

    @property
    def zone(self) -> str:
        """The zone the page shows (UTC until the viewer picks one); aliases by their canonical name."""
        return canonical_zone(self.tz.data.strip()) if self.tz.data and not self.tz.errors else "UTC"


def _filter_form() -> ActivityFilterForm:
    """The filter form bound to the query string, with its choices loaded and validated.

    A campaign that is not the chosen brand's (the brand was changed) is dropped; a campaign
    given without a brand brings its brand with it.
    """
    form = ActivityFilterForm(formdata=request.args)
    form._name_error = None
    brands = brand_choices(db.session, limit=BRAND_SELECT_MAX + 1)
    if brand_picker.listed(form, brands):
        form._brand_ids = {brand_id for brand_id, _, _ in brands}
        form.brand.choices = [SelectChoice("", "All brands")] + [
            SelectChoice(brand_id, f"{name} (archived)" if archived else name) for brand_id, name, archived in brands
        ]
    if form.campaign.data is not None and form.brand.data is None:
        campaign = db.session.get(Campaign, form.campaign.data)
        form.brand.data = campaign.brand_id if campaign is not None else None
        if campaign is None:
            form.campaign.data = None
    if not form.brand_select:
        _brand_by_name(form)
    campaigns = campaign_choices(db.session, form.brand.data) if form.brand.data in form._brand_ids else []
    if form.campaign.data not in {campaign_id for campaign_id, _, _ in campaigns}:
        form.campaign.data = None
    form.campaign.choices = [SelectChoice("", "All campaigns" if form.brand.data else "Choose a brand first")] + [
        SelectChoice(campaign_id, f"{name} (archived)" if archived else name)
        for campaign_id, name, archived in campaigns
    ]
    if not form.tz.data:  # no zone in the address: the one this viewer chose last, if any
        form.tz.data = session.get(ZONE_KEY, "")
    form.validate()
    if request.args.get("tz") is not None and not form.tz.errors:
        session[ZONE_KEY] = form.zone
    form.tz.data = form.zone if not form.tz.errors else form.tz.data
    form.date_from.label.text = f"From ({form.zone})"
    form.date_to.label.text = f"To ({form.zone})"
    return form


def _brand_by_name(form: ActivityFilterForm) -> None:
    """Many brands: the filter names its brand, typed (``brand_name``) or carried by a link (``brand``, an id)."""
    form._brand_ids = set()
    if (form.brand_name.data or "").strip():
        brand, form._name_error = brand_picker.typed_brand(db.session, form.brand_name.data)
        form.brand.data = brand.id if brand is not None else None
    elif form.brand.data is not None:
        brand = db.session.get(Brand, form.brand.data)
    else:
        return
    if brand is not None:
        form._brand_ids = {brand.id}
        form.brand_name.data = brand.name


def _page() -> int:
    return page_number(MAX_PAGE)


def _filter_args(form: ActivityFilterForm) -> dict[str, str]:
    """The filters in force as query arguments (empty ones left out), for the export link."""
    args = {
        "brand": form.brand.data,
        "campaign": form.campaign.data,
        "reason": form.reason.data,
        "actor": (form.actor.data or "").strip(),
        "kind": form.kind.data,
        "date_from": form.date_from.data.isoformat() if form.date_from.data else None,
        "date_to": form.date_to.data.isoformat() if form.date_to.data else None,
        "tz": form.zone if form.zone != "UTC" else None,
    }
    return {name: str(value) for name, value in args.items() if value not in (None, "")}


def facts_summary(event) -> list[str]:
    """A few short phrases from the facts that decided an event: spend against budget, local time, window."""
    facts = event.facts
    parts = []
    # An alias added or removed is a person's change that leaves the status as it was (services.aliases).
    if "alias_added" in facts:
        parts.append(f"Alias “{facts['alias_added']}” added")
    if "alias_removed" in facts:
        parts.append(f"Alias “{facts['alias_removed']}” removed")
    currency = facts.get("currency", "")
    if "spend_today" in facts:
        today, budget = display_amount(facts["spend_today"]), display_amount(facts.get("daily_budget"))
        parts.append(f"Today {today} / {budget} {currency}".strip())
    involved = set(event.reasons) | set(event.old_reasons.split(",") if event.old_reasons else [])
    if "monthly_budget" in involved and "spend_month" in facts:
        month, budget = display_amount(facts["spend_month"]), display_amount(facts.get("monthly_budget"))
        parts.append(f"Month {month} / {budget} {currency}".strip())
    if facts.get("local_time"):
        try:
            parts.append("Local " + datetime.fromisoformat(facts["local_time"]).strftime("%a %H:%M"))
        except ValueError:
            parts.append(f"Local {facts['local_time']}")
    if facts.get("window"):
        parts.append(f"Window {facts['window']}")
    elif facts.get("windows"):
        parts.append(f"Outside its {facts['windows']} window{'s' if facts['windows'] != 1 else ''}")
    elif "windows" in facts:
        parts.append("Runs at any hour")
    flight = facts.get("flight") or [None, None]
    if "flight" in involved and any(flight):
        parts.append(f"Flight {flight[0] or '…'} to {flight[1] or '…'}")
    return parts


@bp.get("/activity")
def index():
    # Before the form (it reads every brand): an ETag is only ever given to a page of valid filters.
    # The zone remembered for the session is part of the page too (the address may not name it).
    version = (*live_service.activity_version(db.session), session.get(ZONE_KEY))
    if (unchanged := live.not_modified(version)) is not None:
        return unchanged
    form = _filter_form()
    if form.errors:
        g.pop("live_etag")  # an error page is not live
        return render_template(
            "activity/index.html",
            form=form,
            page=None,
            export_args={},
            facts_summary=facts_summary,
            zone="UTC",
            zones=zone_choices(utcnow()),
        ), 400
    flt = form.to_filter()
    # The pager's links carry a cursor, so the next page is read by seeking the (at, id) index, never by OFFSET.
    page = events_page(
        db.session,
        flt,
        page=_page(),
        per_page=PER_PAGE,
        older_than=parse_cursor(request.args.get("older_than")),
        newer_than=parse_cursor(request.args.get("newer_than")),
    )
    return live.tagged(
        render_template(
            "activity/index.html",
            form=form,
            page=page,
            export_args=_filter_args(form),
            facts_summary=facts_summary,
            count_cap=COUNT_CAP,
            zone=form.zone,
            zones=zone_choices(utcnow()),
        )
    )


@bp.get("/activity.csv")
def export():
    form = _filter_form()
    if form.errors:
        # The page shows the same filters with their errors inline.
        args = {name: request.args[name] for name in form._fields if name in request.args}
        return redirect(url_for("activity.index", **args))
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    rows = export_rows(db.session, form.to_filter())
    return csv_response(f"pacer-activity-{stamp}.csv", EXPORT_HEADER, rows)
