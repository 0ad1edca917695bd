"""The spend upload form and the retry button's form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice

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
