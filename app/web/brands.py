"""Brand pages: add, edit and archive a brand (managers), and its page (budgets, pacing chart,
campaigns with their status and reasons, spend records)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Brand, CampaignAlias, utcnow
from app.money import format_amount
from app.services import aliases as aliases_service
from app.services import live as live_service
from app.services import overview as service
from app.services.alerts import alerts_select, set_alert_percents
from app.services.brands import BrandError, archive_brand, create_brand, restore_brand, update_brand
from app.services.enforcement import commit_and_enforce
from app.services.reconcile import changes_in_words
from app.services.zone_names import zone_choices
from app.web import live
from app.web.auth import requires
from app.web.brand_forms import AlertThresholdsForm, ArchiveForm, BrandForm
from app.web.pagination import page_number

bp = Blueprint("brands", __name__)

RECORDS_PER_PAGE = 25
CAMPAIGNS_PER_PAGE = 100  # a brand of 1,000 campaigns reads one page of them, by the (brand_id, name) index


def _actor() -> str:
    return f"user:{current_user.email}"


def _brand_or_404(brand_id: int) -> Brand:
    return db.get_or_404(Brand, brand_id)


@bp.route("/brands/new", methods=["GET", "POST"])
@requires("manager")
def new():
    form = BrandForm()
    if form.validate_on_submit():
        try:
            brand = create_brand(db.session, utcnow(), actor=_actor(), **form.values())
        except BrandError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            commit_and_enforce(db.session, actor=_actor())
            flash(f"Added brand “{brand.name}”. Add its campaigns next.", "success")
            return redirect(url_for("brands.show", brand_id=brand.id))
    status = 400 if form.errors else 200
    return render_template("brands/form.html", form=form, brand=None, zones=zone_choices(utcnow())), status


@bp.route("/brands/<int:brand_id>/edit", methods=["GET", "POST"])
@requires("manager")
def edit(brand_id: int):
    brand = _brand_or_404(brand_id)
    if brand.archived_at is not None:
        flash(f"“{brand.name}” is archived and cannot be edited.", "warning")
        return redirect(url_for("brands.show", brand_id=brand.id))
    form = BrandForm()
    if request.method == "GET":
        form.name.data = brand.name
        form.timezone.data = brand.timezone
        form.currency.data = brand.currency
        form.daily_budget.data = format_amount(brand.daily_budget_minor, brand.currency)
        form.monthly_budget.data = format_amount(brand.monthly_budget_minor, brand.currency)
    elif form.validate_on_submit():
        try:
            result = update_brand(db.session, brand.id, utcnow(), actor=_actor(), **form.values())
        except BrandError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            commit_and_enforce(db.session, actor=_actor())
            if result.changed:
                flash(
                    f"Saved “{result.brand.name}”: changed {', '.join(result.changed)}. "
                    f"{changes_in_words(result.changes)}",
                    "success",
                )
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("brands.show", brand_id=brand.id))
    status = 400 if form.errors else 200
    return render_template("brands/form.html", form=form, brand=brand, zones=zone_choices(utcnow())), status


@bp.post("/brands/<int:brand_id>/archive")
@requires("manager")
def archive(brand_id: int):
    brand = _brand_or_404(brand_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    if brand.archived_at is not None:
        flash(f"“{brand.name}” was already archived.", "info")
        return redirect(url_for("dashboard.overview"))
    count = sum(1 for c in brand.campaigns if c.archived_at is None)
    archive_brand(db.session, brand.id, utcnow(), actor=_actor())
    commit_and_enforce(db.session, actor=_actor())
    flash(
        f"Archived “{brand.name}” and its {count} campaign{'s' if count != 1 else ''}: they are paused and "
        "hidden from the lists; their history and spend are kept.",
        "success",
    )
    return redirect(url_for("dashboard.overview"))


@bp.post("/brands/<int:brand_id>/restore")
@requires("manager")
def restore(brand_id: int):
    brand = _brand_or_404(brand_id)
    if not ArchiveForm().validate_on_submit():
        abort(400)
    if brand.archived_at is None:
        flash(f"“{brand.name}” is not archived.", "info")
        return redirect(url_for("brands.show", brand_id=brand.id))
    result = restore_brand(db.session, brand.id, utcnow(), actor=_actor())
    commit_and_enforce(db.session, actor=_actor())
    flash(
        f"Restored “{brand.name}” and its {result.campaigns} campaign{'s' if result.campaigns != 1 else ''}. "
        f"{changes_in_words(result.changes)}",
        "success",
    )
    return redirect(url_for("brands.show", brand_id=brand.id))


@bp.post("/brands/<int:brand_id>/alerts")
@requires("manager")
def alert_thresholds(brand_id: int):
    brand = _brand_or_404(brand_id)
    form = AlertThresholdsForm()
    if form.validate_on_submit():
        try:
            percents = set_alert_percents(db.session, brand.id, form.alert_percents.data or "")
        except ValueError as exc:
            db.session.rollback()
            form.alert_percents.errors = [str(exc)]
        else:
            db.session.commit()
            flash(
                f"Alerts for “{brand.name}” now fire at {', '.join(f'{p}%' for p in percents)} of each budget.",
                "success",
            )
            return redirect(url_for("brands.show", brand_id=brand.id))
    return show(brand.id, alert_form=form, status=400)


@bp.get("/brands/<int:brand_id>")
@requires("viewer")
def show(brand_id: int, alert_form: AlertThresholdsForm | None = None, status: int = 200):
    brand = _brand_or_404(brand_id)
    now = utcnow()
    version = live_service.brand_version(db.session, brand) if status == 200 else None
    if version is not None and (unchanged := live.not_modified(version, now)) is not None:
        return unchanged
    if alert_form is None:
        alert_form = AlertThresholdsForm(formdata=None, alert_percents=brand.alert_percents.replace(",", ", "))
    row = service.brand_rows(db.session, [brand], now)[0]
    days = service.month_chart(db.session, brand, now)
    records = db.paginate(
        service.spend_records_select(brand.id),
        page=page_number(),
        per_page=RECORDS_PER_PAGE,
        error_out=False,
    )
    page = render_template(
        "brands/show.html",
        brand=brand,
        row=row,
        days=days,
        chart=service.chart_data(brand, days, row),
        campaigns=db.paginate(
            service.live_campaigns_select(brand.id),
            per_page=CAMPAIGNS_PER_PAGE,
            error_out=False,
            page=request.args.get("campaigns_page", 1, type=int),
        ),
        archived_campaigns=service.archived_campaign_count(db.session, brand.id),
        records=records,
        archive_form=ArchiveForm(),
        alert_form=alert_form,
        recent_alerts=db.session.scalars(alerts_select(brand.id).limit(5)).all(),
        aliases=aliases_service.brand_aliases(db.session, brand.id),
    )
    return (live.tagged(page) if status == 200 else page), status


@bp.post("/brands/<int:brand_id>/aliases/<int:alias_id>/remove")
@requires("manager")
def remove_alias(brand_id: int, alias_id: int):
    """Remove one of the brand's campaign aliases (logged as a manual change of its campaign)."""
    brand = _brand_or_404(brand_id)
    if not ArchiveForm().validate_on_submit():
        abort(400)
    alias = db.session.get(CampaignAlias, alias_id)
    try:
        if alias is None or alias.brand_id != brand.id:
            raise aliases_service.AliasError(
                f"“{brand.name}” has no alias with id {alias_id}; it may have been removed already."
            )
        removed = aliases_service.remove_alias(db.session, alias.id, now=utcnow(), actor=_actor())
    except aliases_service.AliasError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("brands.show", brand_id=brand.id, _anchor="aliases"))
    db.session.commit()
    flash(f"Removed the alias “{removed.name}”: rows naming it are unknown campaigns again.", "success")
    return redirect(url_for("brands.show", brand_id=brand.id, _anchor="aliases"))
