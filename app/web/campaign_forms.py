"""Forms of the campaign pages, and the schedule grid's checkbox encoding.

The grid posts one ``q`` value per checked quarter-hour, "day:minute" with day
0=Monday..6=Sunday and minute the start of the quarter since local midnight
(e.g. "0:540" is Monday 09:00-09:15).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.control import Window
from app.control.schedule import DAY_LABELS, DAY_MINUTES, STEP_MINUTES, format_minutes, merge_windows

QUARTER_FIELD = "q"
QUARTERS_PER_DAY = DAY_MINUTES // STEP_MINUTES


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CampaignForm(FlaskForm):
    """Reads the fields; app.services.campaigns.validate_campaign judges the name and the flight."""

    name = StringField("Name", filters=[_strip], render_kw={"required": True})
    enabled = BooleanField("Enabled (the campaign may run when every other rule allows)", default=True)
    start_date = DateField(
        "Flight starts", validators=[Optional()], description="Brand-local date, inclusive. Leave empty for no start."
    )
    end_date = DateField(
        "Flight ends", validators=[Optional()], description="Brand-local date, inclusive. Leave empty for no end."
    )


class SpendForm(FlaskForm):
    amount = StringField("Amount", filters=[_strip], validators=[DataRequired("Enter the amount spent.")])
    spent_at = StringField("Spent at (brand-local time)", filters=[_strip], validators=[Optional()])
    external_id = StringField("External id (optional)", filters=[_strip], validators=[Optional(), Length(max=200)])
    period = SelectField(
        "Spend or period figure",
        choices=[
            SelectChoice("", "A spend at that time"),
            SelectChoice("day", "The platform's figure for that whole day"),
            SelectChoice("hour", "The platform's figure for the hour starting then"),
        ],
        default="",
    )


class ScheduleForm(FlaskForm):
    """Only the CSRF token: the quarter-hour checkboxes are read with :func:`parse_quarters`."""


class ArchiveForm(FlaskForm):
    """Only the CSRF token."""


class ScheduleValueError(ValueError):
    pass


def parse_quarters(values: list[str]) -> list[Window]:
    """Checked "day:minute" values to merged windows; raises ScheduleValueError naming the bad value."""
    quarters = set()
    for value in values:
        day_text, sep, minute_text = value.partition(":")
        if not sep or not day_text.isdigit() or not minute_text.isdigit() or len(value) > 8:
            raise ScheduleValueError(
                f"{value[:20]!r} is not a quarter-hour of the grid (expected day:minute, e.g. 0:540)."
            )
        day, minute = int(day_text), int(minute_text)
        if day > 6:
            raise ScheduleValueError(f"{value!r}: day {day} does not exist (0 is Monday, 6 is Sunday).")
        if minute >= DAY_MINUTES:
            raise ScheduleValueError(f"{value!r}: minute {minute} is past the end of the day (at most 1425).")
        if minute % STEP_MINUTES:
            raise ScheduleValueError(f"{value!r}: minute {minute} is not on a quarter-hour (a multiple of 15).")
        quarters.add((day, minute))
    return merge_windows(Window(day, minute, minute + STEP_MINUTES) for day, minute in quarters)


def checked_quarters(windows: tuple[Window, ...]) -> set[tuple[int, int]]:
    return {(w.day, minute) for w in windows for minute in range(w.start, w.end, STEP_MINUTES)}


@dataclass(frozen=True)
class GridCell:
    day: int
    minute: int
    checked: bool

    @property
    def value(self) -> str:
        return f"{self.day}:{self.minute}"

    @property
    def label(self) -> str:
        return f"{DAY_LABELS[self.day]} {format_minutes(self.minute)}–{format_minutes(self.minute + STEP_MINUTES)}"

    @property
    def hour_start(self) -> bool:
        return self.minute % 60 == 0


def grid_rows(windows: tuple[Window, ...]) -> list[tuple[int, str, list[GridCell]]]:
    """Seven rows (Monday..Sunday) of 96 quarter-hour cells, checked where a window covers them."""
    checked = checked_quarters(windows)
    return [
        (
            day,
            DAY_LABELS[day],
            [GridCell(day, q * STEP_MINUTES, (day, q * STEP_MINUTES) in checked) for q in range(QUARTERS_PER_DAY)],
        )
        for day in range(7)
    ]
