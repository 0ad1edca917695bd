"""Spend pages: upload a CSV (managers), download a template, follow its import live, read the
result and the rejected rows, download them (in the file's own layout, or with their explanations),
retry a failed import, import a finished one again (skipping bad rows, or only its rejected rows), map
or create the campaigns it did not know, and the history of every import.

Every GET only reads: a run that died is found by the periodic sweep, not by a page view."""

from __future__ import annotations

import ntpath
import posixpath
from pathlib import Path
from typing import Literal

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Brand, SpendFormat, SpendImport, utcnow
from app.services import imports as service
from app.services import live as live_service
from app.services import spend_formats
from app.services.aliases import AliasError, add_alias
from app.services.campaigns import CampaignError, CampaignLocked, create_campaign
from app.services.enforcement import commit_and_enforce
from app.web import brand_picker, live
from app.web.auth import requires
from app.web.csv_export import csv_response
from app.web.pagination import page_number
from app.web.spend_forms import (
    AliasForm,
    FormatForm,
    ImportAgainForm,
    MappingForm,
    NewCampaignForm,
    RetryForm,
    UploadForm,
    choices,
)

bp = Blueprint("spend", __name__)

NOT_QUEUED = "could not be queued ({problem}). The periodic sweep queues it as soon as Redis answers, or press Retry."


def _display_name(filename: str | None) -> str:
    # Some browsers send the client's full path; keep the file's own name only.
    name = ntpath.basename(posixpath.basename(filename or "")).strip()
    return (name or "upload.csv")[:255]


@bp.route("/spend/upload", methods=["GET", "POST"])
@requires("manager")
def upload():
    form = UploadForm()
    form.format.choices = choices("Recognise it from the header", spend_formats.format_choices(db.session))
    brands = spend_formats.brand_choices(db.session, limit=brand_picker.BRAND_SELECT_MAX + 1)
    form.brand.choices = choices(
        "Named in the file (account name column)", brands if brand_picker.listed(form, brands) else []
    )
    if form.validate_on_submit() and (brand_id := _chosen_brand(form)) is not False:
        storage = form.file.data
        try:
            spend_import = service.register_upload(
                db.session,
                storage.stream,
                Path(current_app.config["UPLOAD_FOLDER"]),
                filename=_display_name(storage.filename),
                actor=f"user:{current_user.email}",
                user_id=current_user.id,
                skip_bad_rows=form.skip_bad_rows,
                format_name=form.format.data or None,
                brand_id=brand_id,
            )
        except (service.SpendFileError, service.FormatError) as exc:
            form.file.errors.append(str(exc))
        else:
            if spend_import.status == service.AWAITING_MAPPING:
                flash("Pacer does not know this file's layout: say what its columns hold, once.", "info")
                return redirect(url_for("spend.mapping", import_id=spend_import.id))
            return _after_upload(spend_import)
    status = 400 if form.errors else 200
    return _upload_page(form, status)


def _chosen_brand(form) -> int | None | Literal[False]:
    """The id of the brand the form chose (None: named in the file), or False when a typed name is no brand's
    (the error is on the field)."""
    if form.brand_select:
        return int(form.brand.data) if form.brand.data else None
    brand, problem = brand_picker.typed_brand(db.session, form.brand_name.data)
    if problem:
        form.brand_name.errors.append(problem)
        return False
    if brand is not None and brand.archived_at is not None:
        form.brand_name.errors.append(f"Brand “{brand.name}” is archived: restore it to import its spend.")
        return False
    return brand.id if brand is not None else None


def _upload_page(form: UploadForm, status: int = 200, template_error: str | None = None):
    return render_template(
        "spend/upload.html",
        form=form,
        format=service.FORMAT,
        limit_mb=_limit_mb(),
        template_brand=request.args.get("brand", ""),
        template_error=template_error,
    ), status


@bp.get("/spend/template.csv")
@requires("viewer")
def template():
    """A spend CSV to fill in: the header and one example row for the brand named (or the demo names)."""
    try:
        table = service.spend_template(db.session, request.args.get("brand"), utcnow())
    except LookupError as exc:
        if current_user.can("manager"):
            return _upload_page(UploadForm(), 400, template_error=str(exc))
        abort(404, str(exc))
    return csv_response("spend-template.csv", table.header, table.rows)


def _after_upload(spend_import: SpendImport):
    earlier = service.earlier_import(db.session, spend_import)
    if earlier is not None:
        flash(
            f"This file was already imported on {earlier.created_at:%Y-%m-%d %H:%M} UTC as import #{earlier.id}: "
            "its rows will count as duplicates and nothing will be added twice.",
            "info",
        )
    problem = service.queue_import(db.session, spend_import)
    if problem:
        flash(f"Import #{spend_import.id} is saved but " + NOT_QUEUED.format(problem=problem), "warning")
    else:
        flash(f"Import #{spend_import.id} of “{spend_import.filename}” is queued.", "success")
    return redirect(url_for("spend.show", import_id=spend_import.id))


def _limit_mb() -> int:
    return (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)


@bp.get("/spend/imports")
@requires("viewer")
def imports():
    number = page_number()
    version = live_service.imports_version(db.session, number, service.HISTORY_PER_PAGE)
    if (unchanged := live.not_modified(version)) is not None:
        return unchanged
    page = db.paginate(service.history_query(), page=number, per_page=service.HISTORY_PER_PAGE, error_out=False)
    return live.tagged(render_template("spend/imports.html", page=page))


@bp.get("/spend/imports/<int:import_id>")
@requires("viewer")
def show(import_id: int):
    spend_import = db.get_or_404(SpendImport, import_id)
    if (unchanged := live.not_modified(live_service.import_version(db.session, import_id))) is not None:
        return unchanged
    errors = db.paginate(
        service.errors_query(import_id), page=page_number(), per_page=service.ERRORS_PER_PAGE, error_out=False
    )
    return live.tagged(
        render_template(
            "spend/show.html",
            spend_import=spend_import,
            progress=service.read_progress(spend_import),
            earlier=service.earlier_import(db.session, spend_import),
            errors=errors,
            retry_form=RetryForm(),
            retryable=service.offers_retry(spend_import, utcnow()),
            file_deleted=service.deleted_file_words(spend_import) if spend_import.file_deleted_at else None,
            unknown=service.unknown_campaigns(db.session, spend_import) if spend_import.rejected else [],
            again_form=ImportAgainForm(),
            alias_form=AliasForm(),
            campaign_form=NewCampaignForm(),
        )
    )


@bp.get("/spend/imports/<int:import_id>/progress")
@requires("viewer")
def progress(import_id: int):
    spend_import = db.get_or_404(SpendImport, import_id)
    response = jsonify(service.read_progress(spend_import))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/spend/imports/<int:import_id>/retry")
@requires("manager")
def retry(import_id: int):
    spend_import = db.get_or_404(SpendImport, import_id)
    if not RetryForm().validate_on_submit():
        abort(400)
    try:
        service.prepare_retry(db.session, spend_import, utcnow())
    except service.RetryRefused as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("spend.show", import_id=import_id))
    problem = service.queue_import(db.session, spend_import)
    if problem:
        flash(f"Import #{import_id} " + NOT_QUEUED.format(problem=problem), "warning")
    else:
        flash(f"Import #{import_id} is queued again; it adds only the rows that are missing.", "success")
    return redirect(url_for("spend.show", import_id=import_id))


@bp.post("/spend/imports/<int:import_id>/again")
@requires("manager")
def again(import_id: int):
    """Import a finished import again as a new import: the whole file skipping bad rows (``skip``), the
    whole file in its mode (``file``), or only its rejected rows (``rejected``)."""
    spend_import = db.get_or_404(SpendImport, import_id)
    form = ImportAgainForm()
    if not form.validate_on_submit():
        abort(400)
    what = form.what.data
    try:
        new_import = service.import_again(
            db.session,
            spend_import,
            Path(current_app.config["UPLOAD_FOLDER"]),
            only_rejected=what == "rejected",
            skip_bad_rows=spend_import.skip_bad_rows if what == "file" else True,
            actor=f"user:{current_user.email}",
            user_id=current_user.id,
        )
    except (service.ImportAgainRefused, service.SpendFileError) as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("spend.show", import_id=import_id))
    return _after_upload(new_import)


@bp.post("/spend/imports/<int:import_id>/alias")
@requires("manager")
def alias(import_id: int):
    """Save a campaign name the import did not know as an alias of one of its brand's campaigns."""
    db.get_or_404(SpendImport, import_id)
    form = AliasForm()
    if not form.validate_on_submit():
        flash("Choose the campaign these rows are for.", "warning")
        return redirect(url_for("spend.show", import_id=import_id, _anchor="unknown-campaigns"))
    try:
        saved = add_alias(
            db.session,
            form.brand_id.data,
            name=form.name.data,
            campaign_id=form.campaign_id.data,
            now=utcnow(),
            actor=f"user:{current_user.email}",
        )
    except AliasError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(f"Rows naming {saved.name!r} now go to campaign {saved.campaign.name!r}.", "success")
    return redirect(url_for("spend.show", import_id=import_id, _anchor="unknown-campaigns"))


@bp.post("/spend/imports/<int:import_id>/campaign")
@requires("manager")
def new_campaign(import_id: int):
    """Create, in its brand, the campaign the import did not know, under the name the file gives."""
    db.get_or_404(SpendImport, import_id)
    form = NewCampaignForm()
    if not form.validate_on_submit():
        abort(400)
    brand = db.session.get(Brand, form.brand_id.data)
    if brand is None:
        flash(f"There is no brand with id {form.brand_id.data}.", "warning")
        return redirect(url_for("spend.show", import_id=import_id, _anchor="unknown-campaigns"))
    try:
        outcome = create_campaign(
            db.session,
            brand,
            name=form.name.data,
            enabled=True,
            start_date=None,
            end_date=None,
            now=utcnow(),
            actor=f"user:{current_user.email}",
        )
    except (CampaignError, CampaignLocked) as exc:
        db.session.rollback()
        flash(f"The campaign was not created: {exc}", "warning")
    else:
        commit_and_enforce(db.session, actor=f"user:{current_user.email}")
        flash(f"Campaign {outcome.campaign.name!r} created in {brand.name}.", "success")
    return redirect(url_for("spend.show", import_id=import_id, _anchor="unknown-campaigns"))


@bp.get("/spend/imports/<int:import_id>/rejected.csv")
@requires("viewer")
def rejected_csv(import_id: int):
    """The rejected rows in the uploaded file's own layout, ready to fix and upload again."""
    spend_import = db.get_or_404(SpendImport, import_id)
    table = service.rejected_file(db.session, spend_import)
    return csv_response(f"import-{import_id}-rejected.csv", table.header, table.rows)


@bp.get("/spend/imports/<int:import_id>/rejected-errors.csv")
@requires("viewer")
def rejected_errors_csv(import_id: int):
    """The rejected rows with their line numbers and explanations."""
    spend_import = db.get_or_404(SpendImport, import_id)
    table = service.rejected_rows(db.session, spend_import)
    return csv_response(f"import-{import_id}-rejected-errors.csv", table.header, table.rows)


@bp.route("/spend/imports/<int:import_id>/mapping", methods=["GET", "POST"])
@requires("manager")
def mapping(import_id: int):
    """An upload of unknown layout: its first rows, and what each column holds; saved as a named format."""
    spend_import = db.get_or_404(SpendImport, import_id)
    if spend_import.status != service.AWAITING_MAPPING:
        return redirect(url_for("spend.show", import_id=import_id))
    try:
        header_index, rows = spend_formats.file_preview(Path(spend_import.stored_path or ""))
    except service.SpendFileError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("spend.show", import_id=import_id))
    header = rows[header_index]
    form = MappingForm()
    brands = spend_formats.brand_choices(db.session, limit=brand_picker.BRAND_SELECT_MAX + 1)
    form.brand.choices = [
        ("", "Named in the file (brand / account name column)"),
        *(brands if brand_picker.listed(form, brands) else []),
    ]
    if not form.is_submitted():
        form.brand.data = str(spend_import.brand_id) if spend_import.brand_id else ""
        if not form.brand_select and spend_import.brand_id:  # the name field is shown only then
            form.brand_name.data = db.session.get(Brand, spend_import.brand_id).name
        for _ in header:
            form.columns.append_entry()
    if form.validate_on_submit() and (brand_id := _chosen_brand(form)) is not False:
        try:
            service.apply_mapping(
                db.session,
                spend_import,
                name=form.name.data,
                columns=[entry.data for entry in form.columns],
                number_format=form.number_format.data,
                date_format=form.date_format.data,
                brand_id=brand_id,
                actor=f"user:{current_user.email}",
                now=utcnow(),
            )
        except (service.FormatError, service.SpendFileError) as exc:
            form.form_errors.append(str(exc))
        else:
            flash(f"Saved the format “{spend_import.format_name}”; it is recognised from now on.", "success")
            return _after_upload(spend_import)
    status = 400 if form.errors or form.form_errors else 200
    return (
        render_template(
            "spend/mapping.html",
            spend_import=spend_import,
            form=form,
            header=header,
            header_index=header_index,
            rows=rows,
        ),
        status,
    )


@bp.get("/spend/formats")
@requires("viewer")
def formats():
    return render_template("spend/formats.html", **spend_formats.list_view(db.session))


@bp.route("/spend/formats/<int:format_id>/edit", methods=["GET", "POST"])
@requires("manager")
def edit_format(format_id: int):
    saved = db.get_or_404(SpendFormat, format_id)
    form = FormatForm(obj=saved)
    if not form.is_submitted():
        for name, header in saved.mapping.items():
            form[f"column_{name}"].data = header
    if form.validate_on_submit():
        try:
            spend_formats.save_format(
                db.session,
                name=form.name.data,
                mapping=form.mapping(),
                number_format=form.number_format.data,
                date_format=form.date_format.data,
                actor=f"user:{current_user.email}",
                now=utcnow(),
                existing=saved,
            )
        except spend_formats.FormatError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Saved the format “{saved.name}”.", "success")
            return redirect(url_for("spend.formats"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("spend/format_edit.html", form=form, saved=saved), status
