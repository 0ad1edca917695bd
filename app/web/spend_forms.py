"""The spend upload form, the retry and import-again buttons' forms, and the result page's
"map to…" / "create" forms for campaign names an import did not know."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

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
