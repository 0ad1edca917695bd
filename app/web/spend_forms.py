"""The spend upload form, the column-mapping and format forms, the retry and import-again buttons' forms,
and the result page's "map to…" / "create" forms for campaign names an import did not know."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FieldList, IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

from app.services.spend_formats import (
    DATE_FORMAT_CHOICES,
    FIELD_LABELS,
    FIELDS,
    IGNORE,
    MAX_NAME,
    NUMBER_FORMAT_CHOICES,
)

COLUMN_CHOICES = [SelectChoice(IGNORE, "Ignore"), *(SelectChoice(name, FIELD_LABELS[name]) for name in FIELDS)]
NUMBER_CHOICES = [SelectChoice(n, n) for n in NUMBER_FORMAT_CHOICES]
DATE_CHOICES = [SelectChoice(d, d) for d in DATE_FORMAT_CHOICES]


def choices(first: str, pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """A select's choices: ``first`` for the empty value, then (value, label) pairs."""
    return [SelectChoice("", first), *(SelectChoice(value, label) for value, label in pairs)]


MODES = [
    SelectChoice("all", "All or nothing: if any row is bad, import nothing and list the bad rows"),
    SelectChoice("skip", "Skip bad rows: import the good rows and list the bad ones"),
]


class UploadForm(FlaskForm):
    file = FileField(
        "Spend CSV file",
        validators=[FileRequired("Choose a CSV file to upload.")],
        render_kw={"accept": ".csv,text/csv,text/plain"},
    )
    mode = RadioField("If some rows are bad", choices=MODES, default="all")
    # Choices are set by the view: "" (recognise from the header) and every format; "" (from the file) and each brand.
    format = SelectField("Format", default="")
    brand = SelectField("Brand", default="")
    brand_name = StringField("Brand", validators=[Length(max=200)])  # instead of the select, beyond a few brands

    @property
    def skip_bad_rows(self) -> bool:
        return self.mode.data == "skip"


class RetryForm(FlaskForm):
    """Only the CSRF token: the import to retry is in the URL."""


AGAIN_CHOICES = [
    SelectChoice("skip", "The whole file again, skipping bad rows"),
    SelectChoice("file", "The whole file again, in the same mode"),
    SelectChoice("rejected", "Only the rejected rows, skipping those still bad"),
]


class ImportAgainForm(FlaskForm):
    """What to import again from a finished import (the import is in the URL)."""

    what = RadioField("Import again", choices=AGAIN_CHOICES, validators=[InputRequired("Choose what to import.")])


class AliasForm(FlaskForm):
    """Map a campaign name an import did not know to one of the brand's campaigns (saved as an alias)."""

    brand_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    name = StringField(widget=HiddenInput(), validators=[InputRequired()])
    campaign_id = IntegerField("Map to", validators=[InputRequired("Choose the campaign these rows are for.")])


class NewCampaignForm(FlaskForm):
    """Create the campaign an import did not know, in its brand, under the name the file gives."""

    brand_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    name = StringField(widget=HiddenInput(), validators=[InputRequired()])


class MappingForm(FlaskForm):
    """What each column of a file of unknown layout holds, saved as a named format."""

    name = StringField("Save this format as", validators=[InputRequired("Name the format."), Length(max=MAX_NAME)])
    columns = FieldList(SelectField("Column", choices=COLUMN_CHOICES, default=IGNORE))
    number_format = SelectField("Numbers are written as", choices=NUMBER_CHOICES, default="1,234.56")
    date_format = SelectField("Days are written as", choices=DATE_CHOICES, default="YYYY-MM-DD")
    brand = SelectField("Brand", default="")  # choices set by the view
    brand_name = StringField("Brand", validators=[Length(max=200)])  # instead of the select, beyond a few brands


class FormatForm(FlaskForm):
    """A saved format: its name, the header name of each field's column, its number and date formats."""

    name = StringField("Name", validators=[InputRequired("Name the format."), Length(max=MAX_NAME)])
    number_format = SelectField("Numbers are written as", choices=NUMBER_CHOICES)
    date_format = SelectField("Days are written as", choices=DATE_CHOICES)

    def column_fields(self) -> list:
        return [self[f"column_{name}"] for name in FIELDS]

    def mapping(self) -> dict[str, str]:
        return {name: self[f"column_{name}"].data or "" for name in FIELDS}


for _name in FIELDS:
    setattr(FormatForm, f"column_{_name}", StringField(f"{FIELD_LABELS[_name]} column"))
