"""Ad-platform connections (managers): a brand's connections (add, test, dry-run switch, delete), the
campaign mapping from a CSV, and a campaign's platform ids. Credentials are never shown after saving."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectChoice, SelectField, StringField

from app.connectors import PLATFORMS
from app.extensions import db
from app.models import Brand, Campaign, PlatformConnection, utcnow
from app.services import platforms as service
from app.services.outbox import request_delivery
from app.web.auth import requires

bp = Blueprint("connections", __name__)

MAPPING_MAX_BYTES = 2 * 1024 * 1024


class ConnectionForm(FlaskForm):
    platform = SelectField("Platform", choices=[SelectChoice(p.name, p.label) for p in PLATFORMS.values()])
    account_id = StringField("Account id", render_kw={"maxlength": 40, "required": True, "autocomplete": "off"})
    # Every platform's credential fields; the service keeps the chosen platform's. Never filled back in.
    developer_token = PasswordField("Google Ads developer token", render_kw={"autocomplete": "off"})
    client_id = PasswordField("Google OAuth client id", render_kw={"autocomplete": "off"})
    client_secret = PasswordField("Google OAuth client secret", render_kw={"autocomplete": "off"})
    refresh_token = PasswordField("Google OAuth refresh token", render_kw={"autocomplete": "off"})
    login_customer_id = StringField("Google manager account id (optional)", render_kw={"autocomplete": "off"})
    access_token = PasswordField("Meta system user access token", render_kw={"autocomplete": "off"})


class MappingForm(FlaskForm):
    file = FileField("Mapping CSV (brand,campaign,platform,account_id,platform_campaign_id)")


class LinkForm(FlaskForm):
    platform_campaign_id = StringField("Platform campaign id", render_kw={"maxlength": 40, "autocomplete": "off"})


class ActionForm(FlaskForm):
    """Only the CSRF token: test, dry-run switch and delete need a POST and nothing else."""


def _settings() -> service.ConnectorSettings:
    return service.ConnectorSettings.from_config(current_app.config)


def _render(brand: Brand, form: ConnectionForm | None = None, mapping_errors=None, status: int = 200):
    body = render_template(
        "connections/index.html",
        brand=brand,
        rows=service.connection_rows(db.session, brand.id),
        out_of_sync=service.out_of_sync(db.session, brand.id),
        key_problem=service.key_problem(db.session, current_app.config.get("CONNECTOR_KEY"))
        or (None if current_app.config.get("CONNECTOR_KEY") else "PACER_CONNECTOR_KEY is not set."),
        form=form or ConnectionForm(formdata=None),
        mapping_form=MappingForm(formdata=None),
        mapping_errors=mapping_errors or [],
        action_form=ActionForm(),
    )
    return body, status, {"Cache-Control": "no-store"}


@bp.route("/brands/<int:brand_id>/connections", methods=["GET", "POST"])
@requires("manager")
def index(brand_id: int):
    brand = db.get_or_404(Brand, brand_id)
    form = ConnectionForm()
    if not form.validate_on_submit():
        return _render(brand, form, status=400 if form.errors else 200)
    credentials = {name: getattr(form, name).data or "" for name in service.credential_field_names()}
    try:
        connection = service.save_connection(
            db.session, brand.id, form.platform.data, form.account_id.data or "", credentials, key=_settings().key
        )
    except service.PlatformError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        return _render(brand, form, status=400)
    except service.KeyMissing as exc:
        db.session.rollback()
        form.account_id.errors = [f"{exc} Set it in the environment and restart Pacer."]
        return _render(brand, form, status=400)
    except LookupError:
        abort(404)
    db.session.commit()
    flash(
        f"Connected {PLATFORMS[connection.platform].label} account {connection.account_id}, in dry run: "
        "pushes are logged, not sent. Test the connection, map the campaigns, then switch dry run off.",
        "success",
    )
    return redirect(url_for("connections.index", brand_id=brand.id))


def _connection_or_404(connection_id: int) -> PlatformConnection:
    connection = db.get_or_404(PlatformConnection, connection_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return connection


@bp.post("/connections/<int:connection_id>/test")
@requires("manager")
def test(connection_id: int):
    connection = _connection_or_404(connection_id)
    settings = _settings()
    with service.client(settings) as http:
        message = service.test_connection(
            db.session, connection.id, utcnow(), service.connector_factory(settings, http)
        )
    ok = connection.state == "ok"
    db.session.commit()
    flash(message, "success" if ok else "error")
    return redirect(url_for("connections.index", brand_id=connection.brand_id))


@bp.post("/connections/<int:connection_id>/dry-run")
@requires("manager")
def dry_run(connection_id: int):
    connection = _connection_or_404(connection_id)
    queued = service.set_dry_run(db.session, connection.id, not connection.dry_run, utcnow())
    db.session.commit()
    if connection.dry_run:
        flash("Dry run on: pushes are logged, not sent.", "success")
    else:
        request_delivery()  # the sweep asks too, within a minute, if the queue is unreachable now
        flash(
            f"Dry run off: every pause and resume of a mapped campaign is now sent to the platform, "
            f"and the current state of {queued} mapped campaign{'s' if queued != 1 else ''} is being sent now.",
            "success",
        )
    return redirect(url_for("connections.index", brand_id=connection.brand_id))


@bp.post("/campaigns/<int:campaign_id>/platforms/resync")
@requires("manager")
def resync(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    queued = service.resync(db.session, utcnow(), campaign_id=campaign.id)
    db.session.commit()
    request_delivery()
    flash(
        f"Sending {campaign.name}'s current state ({campaign.status}) to {queued} platform campaign"
        f"{'s' if queued != 1 else ''}.",
        "success",
    )
    return redirect(url_for("campaigns.show", campaign_id=campaign.id, _anchor="platforms"))


@bp.post("/connections/<int:connection_id>/delete")
@requires("manager")
def delete(connection_id: int):
    connection = _connection_or_404(connection_id)
    brand_id, label = connection.brand_id, PLATFORMS[connection.platform].label
    service.delete_connection(db.session, connection.id)
    db.session.commit()
    flash(f"Deleted the {label} connection and its campaign mapping; the spend it pulled is kept.", "success")
    return redirect(url_for("connections.index", brand_id=brand_id))


@bp.post("/brands/<int:brand_id>/connections/mapping")
@requires("manager")
def mapping(brand_id: int):
    brand = db.get_or_404(Brand, brand_id)
    form = MappingForm()
    if not form.validate_on_submit() or not form.file.data:
        return _render(brand, mapping_errors=["Choose a CSV file."], status=400)
    raw = form.file.data.read(MAPPING_MAX_BYTES + 1)
    if len(raw) > MAPPING_MAX_BYTES:
        return _render(brand, mapping_errors=["The file is larger than 2 MB."], status=400)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _render(brand, mapping_errors=["The file is not UTF-8 text."], status=400)
    result = service.import_mapping(db.session, text)
    if result.errors:
        db.session.rollback()
        return _render(brand, mapping_errors=["Nothing was imported:", *result.errors[:50]], status=400)
    db.session.commit()
    flash(
        f"Mapping imported: {result.linked} linked, {result.changed} changed, {result.removed} removed, "
        f"{result.unchanged} unchanged.",
        "success",
    )
    return redirect(url_for("connections.index", brand_id=brand.id))


@bp.post("/campaigns/<int:campaign_id>/platforms/<int:connection_id>")
@requires("manager")
def link(campaign_id: int, connection_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    form = LinkForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = service.link_campaign(db.session, campaign.id, connection_id, form.platform_campaign_id.data or "")
    except LookupError:
        abort(404)
    except service.PlatformError as exc:
        db.session.rollback()
        flash(f"Not changed: {exc}", "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id, _anchor="platforms"))
    db.session.commit()
    flash(
        {"linked": "Platform id saved.", "changed": "Platform id changed.", "removed": "Platform id removed."}.get(
            outcome, "Nothing changed."
        ),
        "success",
    )
    return redirect(url_for("campaigns.show", campaign_id=campaign.id, _anchor="platforms"))
