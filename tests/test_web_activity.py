"""The activity log page and its CSV export: filters, validation, pagination, formula neutralising."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from werkzeug.security import generate_password_hash

from app.control import Window
from app.models import CampaignEvent, User
from app.services.activity import ActivityFilter, export_rows
from app.services.reconcile import reconcile_brand
from app.web.csv_export import csv_lines, neutralise_formula
from tests.helpers import add_filler_brands


def add_user(session, email: str, role: str) -> User:
    user = User(
        email=email,
        role=role,
        active=True,
        password_hash=generate_password_hash("irrelevant", method="pbkdf2:sha256:1000"),
    )
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def viewer_client(client, session):
    user = add_user(session, "vera@pacer.test", "viewer")
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return client


def facts(**overrides) -> dict:
    base = {
        "timezone": "UTC",
        "local_time": "2026-11-25T15:00",
        "currency": "USD",
        "spend_today": "120.00",
        "daily_budget": "100.00",
        "spend_month": "900.00",
        "monthly_budget": "2000.00",
        "enabled": True,
        "archived": False,
        "flight": [None, None],
        "window": None,
        "windows": 0,
    }
    return base | overrides


def add_event(
    session,
    campaign,
    at: datetime,
    *,
    old: str | None = "active",
    new: str = "paused",
    reasons: tuple[str, ...] = ("daily_budget",),
    old_reasons: tuple[str, ...] = (),
    actor: str = "enforce_budgets",
    automatic: bool = True,
    **fact_overrides,
) -> CampaignEvent:
    event = CampaignEvent(
        campaign_id=campaign.id,
        brand_id=campaign.brand_id,
        at=at,
        old_status=old,
        new_status=new,
        old_reasons=",".join(old_reasons),
        new_reasons=",".join(reasons),
        actor=actor,
        automatic=automatic,
        facts_json=json.dumps(facts(**fact_overrides)),
    )
    session.add(event)
    session.flush()
    return event


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows_of(response) -> list[list[str]]:
    """The body rows of the activity table, each as its cells' text."""
    body = re.sub(
        r'<span class="actor">(.*?)</span></span>',
        lambda m: re.sub(r"</?span>", "", m.group(1)),
        response.get_data(as_text=True),
    )
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c))).strip() for c in cells])
    return rows


def csv_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


# --- the page ----------------------------------------------------------------------------------


def test_empty_log_says_so(viewer_client):
    response = viewer_client.get("/activity")
    assert response.status_code == 200
    assert "No activity yet" in page_text(response)
    assert "<tbody>" not in response.get_data(as_text=True)


def test_events_are_listed_newest_first_with_local_time_links_reasons_actor_and_facts(
    viewer_client, session, make, now
):
    brand = make.brand("Acme", timezone="America/New_York")
    campaign = make.campaign(brand, "Search")
    add_event(
        session,
        campaign,
        now - timedelta(hours=3),
        old=None,
        new="active",
        reasons=(),
        actor="apply_dayparting",
        window="mon 09:00-17:00",
        windows=1,
    )
    add_event(
        session,
        campaign,
        now,
        reasons=("daily_budget", "schedule"),
        actor="user:ana@pacer.test",
        automatic=False,
        local_time="2026-11-25T10:00",
        windows=2,
        timezone="America/New_York",
    )
    session.commit()

    response = viewer_client.get("/activity")
    assert response.status_code == 200
    rows = rows_of(response)
    assert len(rows) == 2
    newest, oldest = rows
    # Every row in one zone, UTC unless the viewer picks another; the brand's own clock is in the title.
    assert newest[0] == "2026-11-25 15:00 UTC" and oldest[0] == "2026-11-25 12:00 UTC"
    assert newest[1] == "Acme" and newest[2] == "Search"
    assert newest[3] == "active → paused"
    assert "Daily budget reached" in newest[4] and "Outside its dayparting hours" in newest[4]
    assert "user:ana@pacer.test" in newest[5] and "manual" in newest[5]
    assert "Today 120.00 / 100.00 USD" in newest[6] and "Local Wed 10:00" in newest[6]
    assert "Outside its 2 windows" in newest[6]
    assert oldest[3] == "new → active" and "All rules pass" in oldest[4] and "automatic" in oldest[5]
    assert "Window mon 09:00-17:00" in oldest[6]

    body = response.get_data(as_text=True)
    assert re.search(r'title="2026-11-25 10:00 EST in America/New_York \(the brand[^"]*s zone\)"', body), body
    assert f'href="/brands/{brand.id}"' in body or f'href="http://pacer.test/brands/{brand.id}"' in body
    assert f'/campaigns/{campaign.id}"' in body


def test_a_real_reconcile_shows_up_with_its_actor_and_facts(viewer_client, session, make, now):
    brand = make.brand("Globex", daily="50")
    make.campaign(brand, "Night", windows=(Window(0, 0, 60),))
    session.commit()
    reconcile_brand(session, brand.id, now, actor="user:ana@pacer.test", automatic=False)
    session.commit()
    (row,) = rows_of(viewer_client.get("/activity"))
    assert row[1:3] == ["Globex", "Night"]
    assert row[3] == "new → paused" and "Outside its dayparting hours" in row[4]
    assert "manual" in row[5]
    assert "Today 0.00 / 50.00 USD" in row[6] and "Local Wed 15:00" in row[6]


def test_cleared_reasons_are_shown_when_a_campaign_resumes(viewer_client, session, make, now):
    campaign = make.campaign(make.brand())
    add_event(
        session,
        campaign,
        now,
        old="paused",
        new="active",
        reasons=(),
        old_reasons=("daily_budget",),
        actor="reset_daily",
    )
    session.commit()
    (row,) = rows_of(viewer_client.get("/activity"))
    assert "cleared: Daily budget reached" in row[4]


@pytest.fixture
def log(session, make, now):
    """Two brands, three campaigns, events of every kind across three UTC days."""
    acme, globex = make.brand("Acme"), make.brand("Globex")
    search, social = make.campaign(acme, "Search"), make.campaign(acme, "Social")
    video = make.campaign(globex, "Video")
    day1, day2, day3 = (datetime(2026, 11, d, tzinfo=UTC) for d in (23, 24, 25))
    events = {
        "search-budget": add_event(session, search, day1 + timedelta(hours=23, minutes=59), reasons=("daily_budget",)),
        "social-month": add_event(session, social, day2, reasons=("monthly_budget",), actor="enforce_budgets"),
        "video-sched": add_event(
            session, video, day2 + timedelta(hours=12), reasons=("schedule",), actor="apply_dayparting"
        ),
        "search-manual": add_event(
            session,
            search,
            day3 + timedelta(hours=1),
            reasons=("disabled",),
            actor="user:Ana@Pacer.test",
            automatic=False,
        ),
        "video-flight": add_event(
            session,
            video,
            day3 + timedelta(hours=2),
            reasons=("flight", "daily_budget"),
            actor="user:bo_100%@pacer.test",
            automatic=False,
        ),
    }
    session.commit()
    return {"acme": acme, "globex": globex, "search": search, "social": social, "video": video, "events": events}


def shown(client, query: str) -> list[tuple[str, str]]:
    response = client.get("/activity" + query)
    assert response.status_code == 200, page_text(response)
    return [(row[1], row[2]) for row in rows_of(response)]


def test_filter_by_brand_and_by_campaign_within_it(viewer_client, log):
    acme, search, video = log["acme"], log["search"], log["video"]
    assert shown(viewer_client, f"?brand={acme.id}") == [("Acme", "Search"), ("Acme", "Social"), ("Acme", "Search")]
    assert shown(viewer_client, f"?brand={acme.id}&campaign={search.id}") == [("Acme", "Search")] * 2
    # A campaign given alone brings its brand; the brand's campaigns fill the campaign select.
    response = viewer_client.get(f"/activity?campaign={video.id}")
    assert [(r[1], r[2]) for r in rows_of(response)] == [("Globex", "Video")] * 2
    assert re.search(rf'<option selected value="{log["globex"].id}">Globex</option>', response.get_data(as_text=True))
    # A campaign of another brand (the brand select was changed) is dropped, not an error.
    assert shown(viewer_client, f"?brand={acme.id}&campaign={video.id}") == shown(viewer_client, f"?brand={acme.id}")


@pytest.fixture
def many_brands(session, log):
    """More brands than the brand select lists: the filter becomes a name to type."""
    add_filler_brands(session)
    return log


def test_with_many_brands_the_brand_filter_is_a_name_not_a_select_of_them_all(viewer_client, many_brands):
    acme, search, video = many_brands["acme"], many_brands["search"], many_brands["video"]
    body = viewer_client.get("/activity").get_data(as_text=True)
    assert 'name="brand_name"' in body and 'name="brand"' not in body
    assert "Brand 150" not in body  # no brand is listed
    # Typed, ignoring case; the name stays in the box and the download carries the brand's id.
    response = viewer_client.get("/activity?brand_name=acme")
    assert [(r[1], r[2]) for r in rows_of(response)] == [("Acme", "Search"), ("Acme", "Social"), ("Acme", "Search")]
    body = response.get_data(as_text=True)
    assert re.search(r'name="brand_name"[^>]*value="Acme"', body)
    assert f"/activity.csv?brand={acme.id}" in body
    # A link's brand id, and a campaign alone, still filter, and fill the box.
    assert shown(viewer_client, f"?brand={acme.id}&campaign={search.id}") == [("Acme", "Search")] * 2
    response = viewer_client.get(f"/activity?campaign={video.id}")
    assert [(r[1], r[2]) for r in rows_of(response)] == [("Globex", "Video")] * 2
    assert re.search(r'name="brand_name"[^>]*value="Globex"', response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?brand_name=Nope", "No brand is named “Nope”."),
        (
            "?brand_name=Brand+01",
            "No brand is named “Brand 01”. Brands with it in their names: Brand 010, Brand 011, Brand 012.",
        ),
        ("?brand_name=" + "x" * 201, "200 characters"),
        ("?brand=999999", "There is no such brand."),
    ],
)
def test_with_many_brands_an_unknown_name_is_an_inline_error(viewer_client, many_brands, query, message):
    response = viewer_client.get("/activity" + query)
    assert response.status_code == 400
    assert message in page_text(response)


def test_filter_by_reason(viewer_client, log):
    assert shown(viewer_client, "?reason=daily_budget") == [("Globex", "Video"), ("Acme", "Search")]
    assert shown(viewer_client, "?reason=monthly_budget") == [("Acme", "Social")]
    assert shown(viewer_client, "?reason=flight") == [("Globex", "Video")]


def test_filter_by_actor_text_and_kind(viewer_client, log):
    assert shown(viewer_client, "?actor=ana@") == [("Acme", "Search")]  # case-insensitive
    assert shown(viewer_client, "?actor=100%25") == [("Globex", "Video")]  # % is literal, not a wildcard
    assert shown(viewer_client, "?actor=user_") == []  # so is _ (as a wildcard it would match "user:")
    assert shown(viewer_client, "?actor=budgets") == [("Acme", "Social"), ("Acme", "Search")]
    assert shown(viewer_client, "?kind=manual") == [("Globex", "Video"), ("Acme", "Search")]
    assert len(shown(viewer_client, "?kind=automatic")) == 3
    assert shown(viewer_client, "?kind=automatic&actor=dayparting") == [("Globex", "Video")]


def test_filter_by_utc_date_range_inclusive(viewer_client, log):
    assert len(shown(viewer_client, "?date_from=2026-11-24&date_to=2026-11-24")) == 2
    assert len(shown(viewer_client, "?date_to=2026-11-23")) == 1  # 23:59 on the 23rd counts
    assert len(shown(viewer_client, "?date_from=2026-11-25")) == 2
    assert shown(viewer_client, "?date_from=2026-12-01") == []
    assert len(shown(viewer_client, "?date_from=0001-01-01&date_to=9999-12-31")) == 5  # the extremes do not overflow
    assert "No events match these filters" in page_text(viewer_client.get("/activity?date_from=2026-12-01"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2026-13-01", "Use a date like 2026-11-25"),
        ("?date_to=yesterday", "Use a date like 2026-11-25"),
        ("?date_from=2026-11-25&date_to=2026-11-24", "The end date is before the start date."),
        ("?brand=abc", "could not coerce"),
        ("?brand=999999", "There is no such brand."),
        ("?campaign=99999999999999999999999", "could not coerce"),
        ("?campaign=-1", "could not coerce"),
        ("?reason=bored", "Choose one of the listed reasons."),
        ("?kind=robots", "Choose automatic, manual, or both."),
        ("?actor=" + "x" * 121, "120 characters"),
    ],
)
def test_bad_filters_get_an_inline_error_never_a_500(viewer_client, log, query, message):
    response = viewer_client.get("/activity" + query)
    assert response.status_code == 400
    text = page_text(response)
    assert message in text
    assert 'class="field-error"' in text and "Fix the filters above" in text
    # The export answers the same bad filters by sending the person back to the page.
    export = viewer_client.get("/activity.csv" + query)
    assert export.status_code == 302 and "/activity?" in export.location


@pytest.mark.parametrize("page", ["abc", "-3", "0", "99999999999999999999999999", "4"])
def test_odd_page_numbers_never_fail(viewer_client, log, page):
    response = viewer_client.get(f"/activity?page={page}")
    assert response.status_code == 200
    assert rows_of(response) or "No events on this page" in page_text(response)


def test_pages_of_fifty_keep_the_filters_in_their_links(viewer_client, session, make, now):
    acme = make.brand("Acme")
    search = make.campaign(acme, "Search")
    other = make.campaign(make.brand("Other"), "Else")
    for minute in range(120):
        add_event(session, search, now - timedelta(minutes=minute), actor="enforce_budgets")
    add_event(session, other, now, actor="enforce_budgets")
    session.commit()

    first = viewer_client.get(f"/activity?brand={acme.id}&actor=enforce")
    rows = rows_of(first)
    assert len(rows) == 50 and {r[1] for r in rows} == {"Acme"}
    body = first.get_data(as_text=True)
    assert "Page 1 of 3" in body and "120 in all" in body
    next_link = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', body).group(1))
    assert f"brand={acme.id}" in next_link and "actor=enforce" in next_link and "page=2" in next_link

    third = viewer_client.get(f"/activity?brand={acme.id}&actor=enforce&page=3")
    assert len(rows_of(third)) == 20
    # Together the pages hold each event once, newest first.
    times = [r[0] for p in (1, 2, 3) for r in rows_of(viewer_client.get(f"/activity?brand={acme.id}&page={p}"))]
    assert len(times) == 120 and times == sorted(times, reverse=True)


def test_the_pager_links_seek_by_the_index_and_walk_every_event_once_both_ways(viewer_client, session, make, now):
    from sqlalchemy import event as sa_event

    from app.extensions import db

    campaign = make.campaign(make.brand("Acme"), "Search")
    # Ties on one instant across a page boundary are told apart by id.
    ids = [add_event(session, campaign, now - timedelta(minutes=minute // 3)).id for minute in range(130)]
    session.commit()
    expected = sorted(ids, key=lambda i: (ids.index(i) // 3, -i))  # newest first, then by id

    offsets: list[int] = []

    def watch(conn, cursor, statement, parameters, *args):
        # The pages' reads (a LIMIT each), not the count nor the live page's version (max(id)).
        if "FROM campaign_event" in statement and "LIMIT" in statement and "count(" not in statement.lower():
            # SQLite's compiler writes "OFFSET ?" (as 0) after every LIMIT; PostgreSQL's only when one is set.
            offsets.append(list(parameters.values() if isinstance(parameters, dict) else parameters)[-1])

    def follow(response, rel: str):
        link = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.get_data(as_text=True))
        return viewer_client.get(html.unescape(link.group(1))) if link else None

    def event_ids(response) -> list[int]:
        return [int(i) for i in re.findall(r'data-event-id="(\d+)"', response.get_data(as_text=True))]

    pages = [viewer_client.get("/activity")]
    sa_event.listen(db.engine, "before_cursor_execute", watch)
    try:
        while (older := follow(pages[-1], "next")) is not None:
            pages.append(older)
        back = [pages[-1]]
        while (newer := follow(back[-1], "prev")) is not None:
            back.append(newer)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", watch)
    assert [len(event_ids(p)) for p in pages] == [50, 50, 30]
    assert [i for p in pages for i in event_ids(p)] == expected
    assert [event_ids(p) for p in back] == [event_ids(p) for p in reversed(pages)]
    assert "Page 3 of 3" in pages[2].get_data(as_text=True) and "Page 1 of 3" in back[-1].get_data(as_text=True)
    assert len(offsets) == 4 and set(offsets) <= {0, 51}  # every link a seek (LIMIT 51), never an OFFSET
    # A cursor that is not one is ignored: the page starts from its number.
    assert event_ids(viewer_client.get("/activity?page=2&older_than=yesterday_1")) == expected[50:100]


# --- the CSV export ----------------------------------------------------------------------------


def test_export_streams_the_filtered_events_as_csv_with_utc_times(viewer_client, log):
    response = viewer_client.get(f"/activity.csv?brand={log['acme'].id}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_of(response)
    assert header[:8] == [
        "time_utc",
        "brand",
        "campaign",
        "old_status",
        "new_status",
        "reasons",
        "old_reasons",
        "actor",
    ]
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("2026-11-25T01:00:00Z", "Acme", "Search", "disabled"),
        ("2026-11-24T00:00:00Z", "Acme", "Social", "monthly_budget"),
        ("2026-11-23T23:59:00Z", "Acme", "Search", "daily_budget"),
    ]
    by_column = dict(zip(header, rows[0], strict=True))
    assert by_column["automatic"] == "no" and by_column["actor"] == "user:Ana@Pacer.test"
    assert by_column["spend_today"] == "120.00" and by_column["daily_budget"] == "100.00"
    assert by_column["currency"] == "USD" and by_column["local_time"] == "2026-11-25T15:00"


def test_export_with_no_events_is_just_the_header(viewer_client):
    response = viewer_client.get("/activity.csv")
    assert response.status_code == 200
    assert csv_of(response) == [list(csv_of(response)[0])] and csv_of(response)[0][0] == "time_utc"


def test_the_page_offers_the_export_with_the_same_filters(viewer_client, log):
    body = html.unescape(viewer_client.get("/activity?reason=schedule&kind=automatic&page=1").get_data(as_text=True))
    link = re.search(r'href="([^"]*activity\.csv[^"]*)"', body).group(1)
    assert "reason=schedule" in link and "kind=automatic" in link and "page=" not in link


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2-A1", "@x", "\tTab", "\rCR"]


def test_export_neutralises_formulas_in_brand_and_campaign_names(viewer_client, session, make, now):
    for i, name in enumerate(HOSTILE):
        brand = make.brand(name)
        add_event(session, make.campaign(brand, name), now + timedelta(minutes=i))
    safe = make.campaign(make.brand("Plain = fine"), "a-b")
    add_event(session, safe, now - timedelta(minutes=1))
    session.commit()

    header, *rows = csv_of(viewer_client.get("/activity.csv"))
    assert len(rows) == len(HOSTILE) + 1
    names = {(row[1], row[2]) for row in rows}
    for name in HOSTILE:
        assert ("'" + name, "'" + name) in names
    assert ("Plain = fine", "a-b") in names  # only a leading trigger counts
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (row, cell)


def test_export_keeps_a_name_that_is_a_plain_number(viewer_client, session, make, now):
    # A spreadsheet reads "-5.00" as the number it is, not a formula: no quote is added.
    add_event(session, make.campaign(make.brand("-5.00"), "+3"), now)
    session.commit()
    header, *rows = csv_of(viewer_client.get("/activity.csv"))
    assert (rows[0][1], rows[0][2]) == ("-5.00", "+3")


def test_export_rows_are_a_lazy_stream_newest_first(session, make, now):
    campaign = make.campaign(make.brand())
    for minute in range(25):
        add_event(session, campaign, now - timedelta(minutes=minute))
    session.commit()
    rows = export_rows(session, ActivityFilter(date_from=date(2026, 11, 25)))
    first = next(rows)  # a lazy generator: nothing is read until asked for
    assert first[0] == "2026-11-25T15:00:00Z"
    assert len(list(rows)) == 24


def test_neutralise_formula():
    for trigger in ("=1+1", "+1+1", "-2+3", "-A1", "-", "+", "-1e", "-.", "@SUM(A1)", "\tx", "\rx", "-1\n=2", "\t1"):
        assert neutralise_formula(trigger) == "'" + trigger
    # Plain numbers keep their sign: an amount downloaded to be fixed and uploaded again must stay an amount.
    for safe in ("Acme", "", "a=b", " =x", "'=x", "1-2", "-5.00", "+1", "-2", "-.5", "-1e3", "+2.5E-2"):
        assert neutralise_formula(safe) == safe
    assert neutralise_formula(-5) == -5 and neutralise_formula(None) is None
    lines = list(csv_lines(["a", "=b"], [["=x", None, 3], ["ok", "two\nlines", "-1"]]))
    assert lines[0] == "a,'=b\r\n"
    assert lines[1] == "'=x,,3\r\n"
    assert lines[2] == 'ok,"two\nlines",-1\r\n'


# --- one time zone for the whole page (issue 16, finding 6) ------------------------------------


@pytest.fixture
def two_zones(session, make):
    """Events of a Tokyo and a New York brand, each at a UTC instant on either side of local midnights."""
    tokyo = make.campaign(make.brand("Kyoto", timezone="Asia/Tokyo"), "Search")
    gotham = make.campaign(make.brand("Gotham", timezone="America/New_York"), "Video")
    add_event(session, tokyo, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), actor="tokyo-early")  # 22:00 on the 24th NY
    add_event(session, gotham, datetime(2026, 11, 25, 16, 0, tzinfo=UTC), actor="gotham-late")  # 11:00 NY
    session.commit()


def test_every_row_is_in_the_chosen_zone_and_the_dates_too(viewer_client, two_zones):
    utc = rows_of(viewer_client.get("/activity"))
    assert [row[0] for row in utc] == ["2026-11-25 16:00 UTC", "2026-11-25 03:00 UTC"]
    new_york = viewer_client.get("/activity?tz=America/New_York")
    assert [row[0] for row in rows_of(new_york)] == ["2026-11-25 11:00 EST", "2026-11-24 22:00 EST"]
    text = page_text(new_york)
    assert "Time (America/New_York)" in text and "From (America/New_York)" in text and "Show in UTC" in text
    # 25 November in New York starts at 05:00 UTC: the Tokyo event (03:00 UTC) is the 24th there.
    only = rows_of(viewer_client.get("/activity?tz=America/New_York&date_from=2026-11-25&date_to=2026-11-25"))
    assert [row[5].split()[0] for row in only] == ["gotham-late"]
    both = rows_of(viewer_client.get("/activity?tz=UTC&date_from=2026-11-25&date_to=2026-11-25"))
    assert len(both) == 2


def test_the_zone_is_remembered_for_the_viewer_and_carried_by_links_and_the_export(viewer_client, two_zones):
    viewer_client.get("/activity?tz=US/Eastern")  # an alias: read as its canonical name
    again = viewer_client.get("/activity")
    assert [row[0] for row in rows_of(again)][0] == "2026-11-25 11:00 EST"
    assert 'value="America/New_York"' in page_text(again)
    assert "/activity.csv?tz=America/New_York" in page_text(again)
    export = viewer_client.get("/activity.csv?tz=America/New_York&date_from=2026-11-25")
    assert [r["actor"] for r in csv.DictReader(io.StringIO(export.get_data(as_text=True)))] == ["gotham-late"]
    viewer_client.get("/activity?tz=UTC")
    assert rows_of(viewer_client.get("/activity"))[0][0] == "2026-11-25 16:00 UTC"


def test_an_unknown_zone_is_a_clear_error(viewer_client, two_zones):
    response = viewer_client.get("/activity?tz=Mars/Olympus")
    assert response.status_code == 400
    assert "“Mars/Olympus” is not a time zone; pick one from the list" in page_text(response)
    assert rows_of(viewer_client.get("/activity"))[0][0] == "2026-11-25 16:00 UTC"  # nothing was remembered


def test_filters_apply_on_change_fold_on_a_phone_and_keep_actors_whole(viewer_client, session, make):
    campaign = make.campaign(make.brand("Acme"), "Search")
    add_event(session, campaign, datetime(2026, 11, 25, 12, tzinfo=UTC), actor="user:someone.long@example.agency")
    session.commit()
    body = viewer_client.get(f"/activity?brand={campaign.brand_id}").get_data(as_text=True)
    campaign_select = re.search(r'<select[^>]*id="campaign"[^>]*>', body).group(0)
    assert "data-autosubmit" in campaign_select
    assert '<details class="filters-box" open>' in body and "activity_filters.js" in body
    assert '<button type="submit">Filter</button>' in body  # the no-JS way
    assert '<span class="actor"><span>user:someone.long</span><span>@example.agency</span></span>' in body
