"""The brand form. It only carries the fields: app.services.brands validates them together
(a budget's allowed decimals depend on the chosen currency)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from app.money import CURRENCIES


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _strip_upper(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) else value


class BrandForm(FlaskForm):
    name = StringField("Name", render_kw={"maxlength": 200, "required": True, "autocomplete": "off"})
    # Typed with a searchable list of canonical names and offsets (the template's datalist); the service
    # judges the name and stores an alias by its canonical name.
    timezone = StringField(
        "Time zone",
        default="UTC",
        filters=[_strip],
        render_kw={"list": "timezone-list", "autocomplete": "off", "spellcheck": "false", "required": True},
    )
    currency = SelectField("Currency", default="USD", validate_choice=False, filters=[_strip_upper])
    daily_budget = StringField("Daily budget", render_kw={"inputmode": "decimal", "required": True})
    monthly_budget = StringField("Monthly budget", render_kw={"inputmode": "decimal", "required": True})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = [(code, code) for code in CURRENCIES]

    def values(self) -> dict[str, str]:
        """The submitted fields as the brand service takes them."""
        return {
            "name": self.name.data or "",
            "timezone": self.timezone.data or "",
            "currency": self.currency.data or "",
            "daily_budget": self.daily_budget.data or "",
            "monthly_budget": self.monthly_budget.data or "",
        }

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            getattr(self, name).errors = list(getattr(self, name).errors) + messages


class ArchiveForm(FlaskForm):
    """Only the CSRF token: archiving needs a POST and nothing else."""


class AlertThresholdsForm(FlaskForm):
    """The brand's alert thresholds as typed; app.services.alerts.parse_percents reads them."""

    alert_percents = StringField(
        "Alert at these percentages of the daily and the monthly budget",
        render_kw={"maxlength": 64, "placeholder": "80, 100", "autocomplete": "off"},
    )
