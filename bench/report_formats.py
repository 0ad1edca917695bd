"""Parsing speed of a platform report (Google Ads, day and hour rows) beside Pacer's own CSV, in one run.

Pure parsing (app.ingest): the same number of good rows, the same campaigns, read from memory; no database.
Prints rows/s of each and their ratio (compare ratios, not seconds: the machine is shared).

    .venv/bin/python bench/report_formats.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine  # noqa: E402

from app.ingest.csv_spend import BrandRef, CampaignDirectory, CampaignRef, SpendRow, read_spend_csv  # noqa: E402
from app.ingest.formats import GOOGLE_ADS, read_report_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    zone = ZoneInfo("America/New_York")
    brand = BrandRef(1, "Acme", zone, "USD")
    directory = CampaignDirectory([brand], [CampaignRef(i, 1, "Acme", f"C{i}", zone, "USD") for i in range(50)])
    pacer = "brand,campaign,amount,spent_at\n" + "".join(
        f"Acme,C{i % 50},{i % 997}.25,2026-11-{1 + i % 24:02d} 09:30:00\n" for i in range(rows)
    )
    google = "Campaign report\nAll time\nCampaign,Day,Hour of the day,Currency code,Cost\n" + "".join(
        f'C{i % 50},2026-11-{1 + i % 24:02d},{i % 24},USD,"1,{i % 997:03d}.25"\n' for i in range(rows)
    )
    print(machine())
    rates = {}
    for name, data, read in (
        ("pacer", pacer, lambda s: read_spend_csv(s, directory, None)),
        ("google_ads", google, lambda s: read_report_csv(s, GOOGLE_ADS, directory, None, brand=brand)),
    ):
        started = time.perf_counter()
        good = sum(1 for row in read(io.BytesIO(data.encode())) if type(row) is SpendRow)
        elapsed = time.perf_counter() - started
        assert good == rows, (name, good)
        rates[name] = good / elapsed
        print(f"{name:>10}: {good:,} rows in {elapsed:.2f} s = {rates[name]:,.0f} rows/s")
    print(f"google_ads / pacer: {rates['google_ads'] / rates['pacer']:.2f}")


if __name__ == "__main__":
    main()
