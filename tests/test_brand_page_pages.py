"""A brand with many campaigns: its page lists them a page at a time, by index, not all at once."""

from __future__ import annotations

import re

from tests.helpers import add_user, sign_in


def names(response) -> list[str]:
    return re.findall(r'<a href="/campaigns/\d+">(Campaign \d+)</a>', response.get_data(as_text=True))


def test_the_campaigns_come_a_hundred_a_page(client, session, make):
    brand = make.brand("Big")
    for n in range(130):
        make.campaign(brand, f"Campaign {n:03d}")
    session.commit()
    sign_in(client, add_user(session, "viewer@pacer.test", "viewer"))

    first = client.get(f"/brands/{brand.id}")
    assert names(first) == [f"Campaign {n:03d}" for n in range(100)]
    page = first.get_data(as_text=True)
    assert "Page 1 of 2 · 130 in all" in page and f"/brands/{brand.id}?campaigns_page=2" in page
    assert names(client.get(f"/brands/{brand.id}?campaigns_page=2")) == [f"Campaign {n:03d}" for n in range(100, 130)]
