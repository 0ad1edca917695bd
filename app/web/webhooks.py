"""Webhook endpoints (admins): add, edit, rotate the secret, send a test event; each endpoint's
delivery log with redeliver. The secret is shown once, in the response that made it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField, widgets

from app.extensions import db
from app.models import Brand, WebhookEndpoint, utcnow
from app.services import webhooks as service
from app.services.outbox import EVENT_TYPES, request_delivery
from app.web.auth import requires

bp = Blueprint("webhooks", __name__)

PER_PAGE = 50
EVENT_WORDS = {
    "campaign.paused": "campaign.paused — a campaign was paused (or its reasons changed)",
    "campaign.resumed": "campaign.resumed — a campaign runs again",
    "alert.fired": "alert.fired — a budget threshold or the forecast alert fired",
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField(
        "URL",
        render_kw={
            "maxlength": service.URL_MAX,
            "required": True,
            "autocomplete": "off",
            "placeholder": "https://hooks.example.com/pacer",
        },
    )
    description = StringField("Description", render_kw={"maxlength": service.DESCRIPTION_MAX})
    event_types = CheckboxesField(
        "Events (none ticked: every event)",
        choices=[SelectChoice(t, EVENT_WORDS[t]) for t in EVENT_TYPES],
        validate_choice=False,
    )
    brand_ids = CheckboxesField("Brands (none ticked: every brand)", coerce=int, validate_choice=False)
    enabled = BooleanField("Enabled", default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.brand_ids.choices = [
            SelectChoice(b.id, b.name)
            for b in db.session.scalars(select(Brand).where(Brand.archived_at.is_(None)).order_by(Brand.name))
        ]


class ActionForm(FlaskForm):
    """Only the CSRF token: rotate, test, redeliver need a POST and nothing else."""


def _settings() -> service.DeliverySettings:
    return service.DeliverySettings.from_config(current_app.config)


def _index(form: EndpointForm, status: int = 200, secret: str | None = None, endpoint=None):
    # The page may carry a freshly made secret: keep it out of every cache.
    body = render_template(
        "webhooks/index.html",
        rows=service.endpoint_rows(db.session),
        form=form,
        secret=secret,
        secret_endpoint=endpoint,
        action_form=ActionForm(),
    )
    return body, status, {"Cache-Control": "no-store"}


def _save(form: EndpointForm, endpoint_id: int | None):
    try:
        return service.save_endpoint(
            db.session,
            endpoint_id,
            url=form.url.data or "",
            description=form.description.data or "",
            event_types=form.event_types.data or [],
            brand_ids=form.brand_ids.data or [],
            enabled=bool(form.enabled.data),
            settings=_settings(),
        )
    except service.WebhookError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        return None


@bp.route("/webhooks", methods=["GET", "POST"])
@requires("admin")
def index():
    form = EndpointForm()
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved:
            endpoint, secret = saved
            db.session.commit()
            return _index(EndpointForm(formdata=None), secret=secret, endpoint=endpoint)
    return _index(form, 400 if form.errors else 200)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    return db.get_or_404(WebhookEndpoint, endpoint_id)


@bp.route("/webhooks/<int:endpoint_id>/edit", methods=["GET", "POST"])
@requires("admin")
def edit(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm()
    if request.method == "GET":
        form.url.data, form.description.data, form.enabled.data = endpoint.url, endpoint.description, endpoint.enabled
        form.event_types.data, form.brand_ids.data = endpoint.event_type_list, endpoint.brand_id_list
    elif form.validate_on_submit() and _save(form, endpoint.id):
        db.session.commit()
        flash("Saved the endpoint.", "success")
        return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    return render_template("webhooks/edit.html", form=form, endpoint=endpoint), 400 if form.errors else 200


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@requires("admin")
def rotate(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    secret = service.rotate_secret(db.session, endpoint.id, utcnow())
    db.session.commit()
    return _index(EndpointForm(formdata=None), secret=secret, endpoint=endpoint)


@bp.post("/webhooks/<int:endpoint_id>/test")
@requires("admin")
def send_test(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    event = service.send_test_event(db.session, endpoint.id, utcnow())
    db.session.commit()  # the outbox asks for a delivery job once this commits
    flash(f"Test event {event.event_id} queued for {endpoint.url}; its delivery shows below.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.get("/webhooks/<int:endpoint_id>")
@requires("admin")
def show(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    page = db.paginate(
        service.deliveries_select(endpoint.id),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("webhooks/show.html", endpoint=endpoint, page=page, action_form=ActionForm())


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@requires("admin")
def redeliver(delivery_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        delivery = service.redeliver(db.session, delivery_id, utcnow())
    except LookupError:
        abort(404)
    endpoint_id = delivery.endpoint_id
    db.session.commit()
    flash(
        "Delivery queued again."
        if request_delivery()
        else "Delivery queued again; it is sent at the next sweep (the queue is unreachable now).",
        "success",
    )
    return redirect(url_for("webhooks.show", endpoint_id=endpoint_id))
