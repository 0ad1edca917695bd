"""`simulate --spend FILE` counts exactly what `spend import FILE` stores: one dedupe function for both.

A Hypothesis property over generated files: repeated external ids, equal rows without ids, rows
already stored by an earlier import, rows on both sides of a brand-local midnight (New York and
Kolkata). The per-brand day totals the simulator replays must equal the stored totals after the
import of the same file.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import BrandDaySpend
from app.services.imports import import_file
from app.services.simulate import brand_ledgers
from tests.conftest import Builders, _empty_tables

BRANDS = (("Gotham", "America/New_York"), ("Chai", "Asia/Kolkata"))
# Kolkata's midnight is 18:30 UTC, New York's 05:00 UTC: rows from 17:00 to 07:00 UTC fall on both sides of each.
FIRST = datetime(2025, 11, 10, 17, 0, tzinfo=UTC)
START, END = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 20, tzinfo=UTC)

rows = st.tuples(
    st.sampled_from([name for name, _ in BRANDS]),
    st.sampled_from(["Search", "Social"]),
    st.sampled_from(["1.00", "2.50", "0", "10"]),  # few amounts and instants, so equal rows are common
    st.sampled_from([FIRST + timedelta(minutes=m) for m in (0, 89, 90, 91, 719, 720, 721, 839)]),
    st.sampled_from(["", "", "", "tx-1", "tx-2", "tx-3"]),  # an id repeats within a brand, and across brands
)


def write_csv(path: Path, lines) -> Path:
    body = ["brand,campaign,amount,spent_at,external_id"]
    body += [
        f"{brand},{campaign},{amount},{at.isoformat().replace('+00:00', 'Z')},{external}"
        for brand, campaign, amount, at, external in lines
    ]
    path.write_text("\n".join(body) + "\n")
    return path


def stored_totals(brand_ids: dict[str, int]) -> dict:
    names = {brand_id: name for name, brand_id in brand_ids.items()}
    totals = db.session.execute(select(BrandDaySpend.brand_id, BrandDaySpend.local_date, BrandDaySpend.amount_minor))
    return {(names[b], day): amount for b, day, amount in totals if amount}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(rows, max_size=8), file=st.lists(rows, min_size=1, max_size=25), reuse=st.data())
def test_simulated_day_totals_equal_what_the_import_stores(app, tmp_path, earlier, file, reuse):
    db.session.remove()
    _empty_tables()
    make = Builders(db.session)
    brand_ids = {}
    for name, zone in BRANDS:
        brand = make.brand(name, timezone=zone)
        make.campaign(brand, "Search")
        make.campaign(brand, "Social")
        brand_ids[name] = brand.id
    db.session.commit()
    if earlier:  # rows already stored, some of which the file repeats
        import_file(db.session, write_csv(tmp_path / "earlier.csv", earlier), actor="test", skip_bad_rows=False)
        file = file + reuse.draw(st.lists(st.sampled_from(earlier), max_size=4))
    path = write_csv(tmp_path / "file.csv", file)

    with open(path, "rb") as handle:
        ledgers = brand_ledgers(db.session, START, END, handle)
    simulated = defaultdict(int)
    for ledger in ledgers:
        ledger.advance(END)
        for day, amount in ledger.by_day.items():
            if amount:
                simulated[(ledger.brand.name, day)] += amount
    db.session.rollback()

    _, outcome = import_file(db.session, path, actor="test", skip_bad_rows=False)
    assert outcome.status == "done" and outcome.rejected == 0
    assert dict(simulated) == stored_totals(brand_ids)
