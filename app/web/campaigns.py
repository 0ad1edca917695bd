"""Campaign pages: add, show (status, facts, edit form, schedule grid, next 7 days, history,
spend form), and the POST endpoints that edit, reschedule, archive and record spend.

Every change a person makes is applied at once: the service reconciles the brand with
the person as actor, the view commits and says in words what the campaign is now.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Brand, Campaign, utcnow
from app.money import format_money
from app.services import campaigns as service
from app.services import live as live_service
from app.services import platforms
from app.services.campaign_page import campaign_page, describe_windows
from app.services.enforcement import commit_and_enforce
from app.web import live
from app.web.auth import requires
from app.web.campaign_forms import (
    QUARTER_FIELD,
    ArchiveForm,
    CampaignForm,
    ScheduleForm,
    ScheduleValueError,
    SpendForm,
    grid_rows,
    parse_quarters,
)
from app.web.connections import LinkForm
from app.web.filters import reason_words
from app.web.pagination import page_number

bp = Blueprint("campaigns", __name__)

# A refused spend form travels to the campaign page in the session (post, redirect, get): the page shows it
# with the errors and its first wrong field focused (so in view), and a reload is a plain GET. Values are
# cut so the cookie stays small.
SPEND_FORM_KEY = "refused_spend_form"
KEPT_VALUE_CHARS = 300


def _actor() -> str:
    return f"user:{current_user.email}"


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _state_words(campaign: Campaign) -> str:
    if campaign.status == "active":
        return "active"
    reasons = ", ".join(reason_words(r) for r in campaign.reasons)
    return f"paused ({reasons})" if reasons else "paused"


def _flash_outcome(prefix: str, outcome: service.Outcome) -> None:
    campaign = outcome.campaign
    now_or_still = "is now" if outcome.status_changed else "is still"
    flash(
        f"{prefix} {campaign.name} {now_or_still} {_state_words(campaign)}.",
        "success" if campaign.status == "active" else "info",
    )


def _apply_errors(form, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        target = getattr(form, name, None)
        if target is None:
            form.form_errors.extend(messages)
        else:
            target.errors = [*target.errors, *messages]


@bp.route("/brands/<int:brand_id>/campaigns/new", methods=["GET", "POST"])
@requires("manager")
def new(brand_id: int):
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        abort(404)
    if brand.archived_at is not None:
        flash(f"{brand.name} is archived, so it cannot get new campaigns.", "error")
        return redirect(url_for("brands.show", brand_id=brand.id))
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            outcome = service.create_campaign(
                db.session,
                brand,
                name=form.name.data,
                enabled=form.enabled.data,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                now=utcnow(),
                actor=_actor(),
            )
        except service.CampaignLocked as exc:
            db.session.rollback()
            flash(f"Not added: {exc}.", "error")
            return redirect(url_for("brands.show", brand_id=brand_id))
        except service.CampaignError as exc:
            db.session.rollback()
            _apply_errors(form, exc.errors)
        else:
            commit_and_enforce(db.session, actor=_actor())
            flash(
                f"Added {outcome.campaign.name}: it is {_state_words(outcome.campaign)}. "
                "It has no schedule yet, so it may run at any hour.",
                "success" if outcome.campaign.status == "active" else "info",
            )
            return redirect(url_for("campaigns.show", campaign_id=outcome.campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("campaigns/new.html", brand=brand, form=form), status


def _render_show(
    campaign: Campaign,
    *,
    edit_form: CampaignForm | None = None,
    spend_form: SpendForm | None = None,
    schedule_error: str | None = None,
    empty_choice: bool = False,
    status: int = 200,
):
    page = campaign_page(
        db.session, campaign.id, utcnow(), history_page=page_number(), can_edit=current_user.can("manager")
    )
    if edit_form is None:
        edit_form = CampaignForm(formdata=None, obj=campaign)
    if spend_form is None:
        spend_form = _refused_spend_form(campaign.id) or SpendForm(formdata=None)
    return render_template(
        "campaigns/show.html",
        page=page,
        campaign=page.campaign,
        brand=page.brand,
        edit_form=edit_form,
        spend_form=spend_form,
        schedule_form=ScheduleForm(formdata=None),
        archive_form=ArchiveForm(formdata=None),
        schedule_error=schedule_error,
        empty_choice=empty_choice,
        grid=grid_rows(page.windows),
        quarter_field=QUARTER_FIELD,
        platform_links=platforms.campaign_links(db.session, page.campaign),
        push_history=platforms.push_history(db.session, page.campaign.id),
        link_form=LinkForm(formdata=None),
        can_link=page.editable,
    ), status


def _locked(campaign_id: int, exc: Exception):
    db.session.rollback()
    flash(f"Not changed: {exc}.", "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


def _refuse_if_locked(campaign: Campaign):
    if campaign.archived_at is not None or campaign.brand.archived_at is not None:
        what = "campaign" if campaign.archived_at is not None else "brand"
        flash(f"This {what} is archived, so {campaign.name} cannot be changed.", "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return None


@bp.get("/campaigns/<int:campaign_id>")
@requires("viewer")
def show(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if (unchanged := live.not_modified(live_service.campaign_version(db.session, campaign))) is not None:
        return unchanged
    return live.tagged(_render_show(campaign))


@bp.post("/campaigns/<int:campaign_id>/edit")
@requires("manager")
def edit(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if (refused := _refuse_if_locked(campaign)) is not None:
        return refused
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            outcome = service.update_campaign(
                db.session,
                campaign,
                name=form.name.data,
                enabled=form.enabled.data,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                now=utcnow(),
                actor=_actor(),
            )
        except service.CampaignLocked as exc:
            return _locked(campaign_id, exc)
        except service.CampaignError as exc:
            db.session.rollback()
            _apply_errors(form, exc.errors)
        else:
            commit_and_enforce(db.session, actor=_actor())
            _flash_outcome("Saved." if outcome.changed else "Nothing to change.", outcome)
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return _render_show(campaign, edit_form=form, status=400)


@bp.post("/campaigns/<int:campaign_id>/schedule")
@requires("manager")
def schedule(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if (refused := _refuse_if_locked(campaign)) is not None:
        return refused
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _render_show(
            campaign, schedule_error="The form could not be read; reload the page and try again.", status=400
        )
    try:
        windows = parse_quarters(request.form.getlist(QUARTER_FIELD))
    except ScheduleValueError as exc:
        return _render_show(campaign, schedule_error=f"The schedule was not saved: {exc}", status=400)
    if not windows:
        if_empty = request.form.get("if_empty", "")
        if if_empty == "switch_off":
            return _switch_off_instead(campaign)
        if if_empty != "any_hour":
            return _render_show(
                campaign,
                schedule_error="No hour is checked, and nothing was saved. An empty schedule means the campaign "
                "runs at any hour; to stop it, switch it off. Which did you mean?",
                empty_choice=True,
                status=400,
            )
    try:
        outcome = service.set_schedule(db.session, campaign, windows, now=utcnow(), actor=_actor())
    except service.CampaignLocked as exc:
        return _locked(campaign_id, exc)
    commit_and_enforce(db.session, actor=_actor())
    if not outcome.changed:
        prefix = "The schedule is unchanged."
    elif windows:
        prefix = f"Schedule saved ({'; '.join(describe_windows(campaign.schedule()))})."
    else:
        prefix = "Schedule cleared: the campaign may run at any hour."
    _flash_outcome(prefix, outcome)
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#schedule")


def _switch_off_instead(campaign: Campaign):
    """'Never run' chosen for an emptied grid: the campaign is switched off and its schedule kept as stored."""
    try:
        outcome = service.update_campaign(db.session, campaign, enabled=False, now=utcnow(), actor=_actor())
    except service.CampaignLocked as exc:
        return _locked(campaign.id, exc)
    commit_and_enforce(db.session, actor=_actor())
    kept = "; ".join(describe_windows(campaign.schedule())) or "none"
    _flash_outcome(f"Switched off, so it never runs until switched on again; the schedule is kept ({kept}).", outcome)
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#schedule")


@bp.post("/campaigns/<int:campaign_id>/archive")
@requires("manager")
def archive(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if not ArchiveForm().validate_on_submit():
        abort(400)
    if campaign.archived_at is not None:
        flash(f"{campaign.name} was already archived.", "info")
        return redirect(url_for("brands.show", brand_id=campaign.brand_id))
    service.archive_campaign(db.session, campaign, now=utcnow(), actor=_actor())
    commit_and_enforce(db.session, actor=_actor())
    flash(f"Archived {campaign.name}: it is stopped and hidden from the brand's list; its history is kept.", "success")
    return redirect(url_for("brands.show", brand_id=campaign.brand_id))


SPEND_FIELDS = ("amount", "spent_at", "external_id", "period")  # kept for a refused form shown again


def _period_message(outcome, campaign, period: str) -> str:
    brand = campaign.brand
    start = outcome.spent_at.astimezone(ZoneInfo(brand.timezone))
    which = f"{start:%Y-%m-%d}" if period == "day" else f"the hour from {start:%Y-%m-%d %H:%M}"
    amount = format_money(outcome.amount_minor, brand.currency)
    did = {
        "new": "Recorded",
        "replaced": "Raised the figure to",
        "corrected": "Corrected (lowered) the figure to",
        "unchanged": "Unchanged: the figure is already",
    }[outcome.period_outcome]
    return f"{did} {amount} for {campaign.name}, {which} ({brand.timezone})."


# One rule for both methods (an id past the column is a 404 for each): the address read as a page (a
# bookmark, an old reload) is the form on the campaign page; like every write's address, a manager's.
@bp.route("/campaigns/<int:campaign_id>/spend", methods=["GET", "POST"])
@requires("manager")
def record_spend(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if request.method == "GET":
        return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#spend")
    if (refused := _refuse_if_locked(campaign)) is not None:
        return refused
    form = SpendForm()
    if form.validate_on_submit():
        try:
            outcome = service.record_manual_spend(
                db.session,
                campaign,
                amount=form.amount.data,
                spent_at=form.spent_at.data or "",
                external_id=form.external_id.data or "",
                now=utcnow(),
                period=form.period.data or "",
            )
        except service.CampaignLocked as exc:
            return _locked(campaign_id, exc)
        except service.CampaignError as exc:
            db.session.rollback()
            _apply_errors(form, exc.errors)
        else:
            enforcement = commit_and_enforce(db.session, actor=_actor())
            brand = campaign.brand
            if outcome.period_outcome is not None:
                flash(_period_message(outcome, campaign, form.period.data), "success")
                flash(enforcement.message(), "warning" if enforcement.error else "info")
                return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#spend")
            if not outcome.inserted:
                flash(
                    f"A spend with external id {form.external_id.data!r} is already recorded for {brand.name}; "
                    "nothing was added.",
                    "info",
                )
                return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#spend")
            when = outcome.spent_at.astimezone(ZoneInfo(brand.timezone)).strftime("%Y-%m-%d %H:%M")
            flash(
                f"Recorded {format_money(outcome.amount_minor, brand.currency)} for "
                f"{campaign.name} at {when} ({brand.timezone}).",
                "success",
            )
            flash(enforcement.message(), "warning" if enforcement.error else "info")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#spend")
    session[SPEND_FORM_KEY] = {
        "campaign_id": campaign.id,
        "data": {name: (form[name].data or "")[:KEPT_VALUE_CHARS] for name in SPEND_FIELDS},
        "errors": {name: list(form[name].errors) for name in SPEND_FIELDS if form[name].errors},
        "form_errors": list(form.form_errors),
    }
    # No #spend here: a fragment would stop the browser from honouring autofocus, which scrolls to the field.
    return redirect(url_for("campaigns.show", campaign_id=campaign.id), code=303)


def _refused_spend_form(campaign_id: int) -> SpendForm | None:
    """The spend form refused just before this page was asked for, with its values and errors (read once)."""
    kept = session.get(SPEND_FORM_KEY)
    if not kept or kept.get("campaign_id") != campaign_id:
        return None
    session.pop(SPEND_FORM_KEY)
    form = SpendForm(formdata=None, data=kept["data"])
    for name, messages in kept["errors"].items():
        form[name].errors = messages
    form.form_errors.extend(kept["form_errors"])
    return form
