"""Campaign aliases (app.services.aliases) and how an import resolves a campaign name: its exact name,
then ignoring case (when only one campaign has it), then an alias of the brand. Real rows in the test
database (SQLite, or PostgreSQL with PACER_TEST_DATABASE_URL), files read the way the importer reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.ingest.csv_spend import RowError, SpendRow, read_spend_csv, unknown_campaign, unknown_campaign_problem
from app.models import CampaignAlias, CampaignEvent
from app.services.aliases import AliasError, add_alias, brand_aliases, remove_alias
from app.services.spend import campaign_directory

HEADER = "brand,campaign,amount,spent_at"
ACTOR = "user:mia@pacer.test"


@pytest.fixture(params=["whole", "lazy"])
def lazy(request) -> bool:
    return request.param == "lazy"


def parse(session, tmp_path: Path, *rows: str, lazy: bool = False) -> list[SpendRow | RowError]:
    path = tmp_path / "spend.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    with open(path, "rb") as handle:
        return list(read_spend_csv(handle, campaign_directory(session, lazy=lazy), None))


def campaign_of(item: SpendRow | RowError) -> str:
    return item.campaign.campaign_name if isinstance(item, SpendRow) else item.message


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme")
    search, display = make.campaign(brand, "Search"), make.campaign(brand, "Display")
    session.commit()
    return brand, search, display


def test_an_alias_resolves_a_platform_name_or_id_to_its_campaign(session, tmp_path, acme, now, lazy):
    brand, search, display = acme
    add_alias(session, brand.id, name="  AW - Search | Brand  ", campaign_id=search.id, now=now, actor=ACTOR)
    add_alias(session, brand.id, name="120208851", campaign_id=display.id, now=now, actor=ACTOR)
    session.commit()
    rows = parse(
        session,
        tmp_path,
        "Acme,AW - Search | Brand,1.00,2026-11-25T10:00:00Z",  # the fast path's well-formed row
        "Acme, aw - search | brand ,2.00,2026-11-25 10:00",  # the full parser: trimmed, another case
        "Acme,120208851,3.00,2026-11-25T10:00:00Z",
        "Acme,120208852,3.00,2026-11-25T10:00:00Z",
        lazy=lazy,
    )
    assert [campaign_of(r) for r in rows] == [
        "Search",
        "Search",
        "Display",
        "Brand 'Acme' has no campaign '120208852'.",
    ]
    assert [a.name for a in brand_aliases(session, brand.id)] == ["120208851", "AW - Search | Brand"]


def test_a_campaign_name_beats_an_alias(session, make, tmp_path, acme, now, lazy):
    brand, search, display = acme
    add_alias(session, brand.id, name="Promo", campaign_id=search.id, now=now, actor=ACTOR)
    session.commit()
    assert campaign_of(parse(session, tmp_path, "Acme,Promo,1,2026-11-25T10:00:00Z", lazy=lazy)[0]) == "Search"
    make.campaign(brand, "promo")  # a campaign added later under (nearly) that name wins, also ignoring case
    session.commit()
    rows = parse(session, tmp_path, "Acme,Promo,1,2026-11-25T10:00:00Z", "Acme,PROMO,1,2026-11-25 10:00", lazy=lazy)
    assert [campaign_of(r) for r in rows] == ["promo", "promo"]


def test_an_ambiguous_name_falls_to_an_alias_or_is_rejected(session, make, tmp_path, acme, now, lazy):
    brand, search, display = acme
    make.campaign(brand, "SEARCH")  # "search" now matches two campaigns ignoring case
    session.commit()
    rows = parse(session, tmp_path, "Acme,search,1,2026-11-25T10:00:00Z", "Acme,Search,1,2026-11-25 10:00", lazy=lazy)
    assert [campaign_of(r) for r in rows] == ["Brand 'Acme' has no campaign 'search'.", "Search"]
    # The ambiguity is resolved by an alias: the name matches no campaign on its own.
    add_alias(session, brand.id, name="search", campaign_id=display.id, now=now, actor=ACTOR)
    session.commit()
    assert campaign_of(parse(session, tmp_path, "Acme,search,1,2026-11-25T10:00:00Z", lazy=lazy)[0]) == "Display"


def test_an_alias_belongs_to_its_brand(session, make, tmp_path, acme, now, lazy):
    brand, search, display = acme
    other = make.brand("Other")
    make.campaign(other, "Search")
    session.commit()
    add_alias(session, brand.id, name="Brand KW", campaign_id=search.id, now=now, actor=ACTOR)
    session.commit()
    rows = parse(session, tmp_path, "Other,Brand KW,1,2026-11-25T10:00:00Z", lazy=lazy)
    assert campaign_of(rows[0]) == "Brand 'Other' has no campaign 'Brand KW'."


def test_an_alias_of_an_archived_campaign_leads_nowhere(session, tmp_path, acme, now, lazy):
    brand, search, display = acme
    add_alias(session, brand.id, name="Old name", campaign_id=display.id, now=now, actor=ACTOR)
    display.archived_at = now
    session.commit()
    rows = parse(session, tmp_path, "Acme,Old name,1,2026-11-25T10:00:00Z", lazy=lazy)
    assert campaign_of(rows[0]) == "Brand 'Acme' has no campaign 'Old name'."


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("", "search", "The alias is empty: give the campaign name or id as the export writes it."),
        ("   ", "search", "The alias is empty: give the campaign name or id as the export writes it."),
        ("x" * 201, "search", "The alias is 201 characters long; at most 200."),
        ("Taken", "display", "'Taken' is already an alias of campaign 'Search' in brand 'Acme'."),
        ("TAKEN", "search", "'Taken' is already an alias of this campaign in brand 'Acme'."),
        ("display", "search", "Brand 'Acme' has a campaign named 'Display': rows naming 'display' already go to it."),
        ("New", "other", "Brand 'Acme' has no campaign with id {other}: choose one of its campaigns."),
        ("New", "missing", "Brand 'Acme' has no campaign with id 999999: choose one of its campaigns."),
        ("New", "archived", "Campaign 'Gone' is archived: choose a live campaign."),
    ],
)
def test_bad_aliases_are_refused_with_a_reason_and_change_nothing(session, make, acme, now, name, target, message):
    brand, search, display = acme
    other = make.campaign(make.brand("Other"), "Search")
    gone = make.campaign(brand, "Gone")
    gone.archived_at = now
    add_alias(session, brand.id, name="Taken", campaign_id=search.id, now=now, actor=ACTOR)
    session.commit()
    ids = {"search": search.id, "display": display.id, "other": other.id, "missing": 999999, "archived": gone.id}
    with pytest.raises(AliasError) as raised:
        add_alias(session, brand.id, name=name, campaign_id=ids[target], now=now, actor=ACTOR)
    session.rollback()
    assert str(raised.value) == message.format(other=other.id)
    assert session.scalars(select(CampaignAlias.name)).all() == ["Taken"]


def test_an_archived_or_unknown_brand_gets_no_alias(session, acme, now):
    brand, search, display = acme
    with pytest.raises(AliasError, match="There is no brand with id 999999."):
        add_alias(session, 999999, name="X", campaign_id=search.id, now=now, actor=ACTOR)
    session.rollback()
    brand.archived_at = now
    session.commit()
    with pytest.raises(AliasError, match="Brand 'Acme' is archived, so its campaigns cannot get aliases."):
        add_alias(session, brand.id, name="X", campaign_id=search.id, now=now, actor=ACTOR)


def test_adding_and_removing_an_alias_is_logged_as_a_manual_change(session, acme, now):
    brand, search, display = acme
    search.status, search.reasons_text = "paused", "schedule"
    alias = add_alias(session, brand.id, name="GAds 42", campaign_id=search.id, now=now, actor=ACTOR)
    session.commit()
    remove_alias(session, alias.id, now=now, actor=ACTOR)
    session.commit()
    events = session.scalars(select(CampaignEvent).order_by(CampaignEvent.id)).all()
    assert [(e.campaign_id, e.actor, e.automatic, e.facts) for e in events] == [
        (search.id, ACTOR, False, {"alias_added": "GAds 42"}),
        (search.id, ACTOR, False, {"alias_removed": "GAds 42"}),
    ]
    # The status is unchanged: the event records who named the campaign what.
    assert {(e.old_status, e.new_status, e.new_reasons) for e in events} == {("paused", "paused", "schedule")}
    assert brand_aliases(session, brand.id) == []
    with pytest.raises(AliasError, match=f"There is no alias with id {alias.id}; it may have been removed already."):
        remove_alias(session, alias.id, now=now, actor=ACTOR)


@pytest.mark.parametrize("names", [("Acme", "Search"), ('O\'Brien "Co"', 'it\'s; "odd".'), ("a\\b", "c\td")])
def test_the_unknown_campaign_message_reads_back(names):
    message = unknown_campaign_problem(*names)
    sentence = message[0].upper() + message[1:] + "."
    assert unknown_campaign(sentence) == names
    assert unknown_campaign(f"Currency EUR is not X; {message}; amount is empty.") == names
    assert unknown_campaign("Unknown brand 'Acme'.") is None


def test_the_lazy_directory_reads_only_the_brands_named(session, make, now):
    # A brand's aliases come with it: a file naming one brand reads that brand, however many there are.
    for i in range(30):
        make.campaign(make.brand(f"Brand {i}"), "Search")
    target = make.brand("Target")
    campaign = make.campaign(target, "Search")
    session.commit()
    add_alias(session, target.id, name="x-1", campaign_id=campaign.id, now=now, actor=ACTOR)
    session.commit()
    directory = campaign_directory(session, lazy=True)
    brand = directory.brand("Target")
    assert directory.campaign(brand, "x-1").campaign_id == campaign.id
    assert set(directory.brands) == {"Target"}


def test_the_api_resolves_aliases_as_files_do(session, acme, now):
    from app.services.spend import record_api_spend

    brand, search, display = acme
    add_alias(session, brand.id, name="fb-2389", campaign_id=display.id, now=now, actor=ACTOR)
    session.commit()
    records = [
        {"brand": "Acme", "campaign": "fb-2389", "amount": "1.00", "spent_at": "2026-11-25T10:00:00Z"},
        {"brand": "Acme", "campaign": "fb-2390", "amount": "1.00", "spent_at": "2026-11-25T10:00:00Z"},
    ]
    result = record_api_spend(session, records, now)
    assert [r["status"] for r in result.results] == ["created", "error"]
    assert result.results[1]["error"] == "Brand 'Acme' has no campaign 'fb-2390'."
