"""Programmes and enrolment, driven over HTTP as an agency would."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from tests.disbursement.conftest import Agency, add_residents, csv_body, enrol, make_programme, person_id


async def test_a_maker_creates_a_programme_funded_from_its_appropriation(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    programme = await make_programme(client, agency, budget=2_000_000)
    assert programme["ledger"] == {
        "appropriation": -2_000_000,
        "budget": 2_000_000,
        "paid": 0,
        "reserved": 0,
        "returned": 0,
    }


async def test_a_programme_outside_the_agencys_provinces_is_refused(client: httpx.AsyncClient, agency: Agency) -> None:
    r = await client.post(
        "/v1/programmes/",
        json={"name": "x", "legal_basis": "y", "budget": 1, "schedule": "one_off", "provinces": ["079"]},
        headers=agency.maker,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/validation")


async def test_a_checker_cannot_create_programmes(client: httpx.AsyncClient, agency: Agency) -> None:
    r = await client.post(
        "/v1/programmes/",
        json={"name": "x", "legal_basis": "y", "budget": 1, "schedule": "one_off"},
        headers=agency.checker,
    )
    assert r.status_code == 403


async def test_upload_judges_every_row_and_reports_it(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    ok = await add_residents(db, 3)
    no_wallet = await add_residents(db, 1, wallet=False)
    dead = await add_residents(db, 1, deceased=True)
    elsewhere = await add_residents(db, 1, province="079")
    programme = await make_programme(client, agency, fixed_amount=None)
    # The registry holds this number with a 1940 birth date, but its digits say 2040.
    wrong_century = "001240999999"
    await db.execute(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
                                   residence_province)
           VALUES ($1, 'Trần Văn B', '1940-01-01', 'male', 'x', 'x', '001')""",
        wrong_century,
    )
    rows = [
        (ok[0].person_id, "500000", "REF-1"),
        (ok[1].person_id, "600000", "REF-2"),
        (ok[1].person_id, "600000", "REF-2-again"),
        (ok[2].person_id, "0", "REF-3"),
        (no_wallet[0].person_id, "500000", "REF-4"),
        (dead[0].person_id, "500000", "REF-5"),
        (elsewhere[0].person_id, "500000", "REF-6"),
        ("12345", "500000", "REF-7"),
        (person_id("001", date(1950, 1, 1)), "500000", "REF-8"),
        (wrong_century, "500000", "REF-9"),
    ]
    out = await enrol(client, agency, programme["id"], csv_body(rows))
    assert (out["rows"], out["accepted"], out["rejected"], out["without_wallet"]) == (10, 3, 7, 1)
    assert out["rejected_by_reason"] == {
        "duplicate_in_file": 1,
        "invalid_amount": 1,
        "deceased": 1,
        "outside_province": 1,
        "malformed_id": 2,
        "unknown_person": 1,
    }
    report = await client.get(out["report_url"], headers=agency.checker)
    assert report.status_code == 200
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [line["line"] for line in lines] == [str(n) for n in range(2, 12)]
    assert lines[0]["outcome"] == "accepted"
    assert lines[2]["reason"] == "duplicate_in_file"
    assert lines[4]["reason"] == "no_linked_wallet"
    amounts = await db.fetch("SELECT agency_ref, amount FROM beneficiaries ORDER BY agency_ref")
    assert [(r["agency_ref"], r["amount"]) for r in amounts] == [
        ("REF-1", 500000),
        ("REF-2", 600000),
        ("REF-4", 500000),
    ]


async def test_the_report_gives_accepted_rows_with_what_was_enrolled_in_file_order(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    # Accepted rows are stored once, as beneficiaries; the report must still list every line.
    people = await add_residents(db, 3)
    programme = await make_programme(client, agency)
    rows = [(people[2].person_id, "", "A-1"), ("x1", "", "A-2"), (people[0].person_id, "500000", "A-3")]
    out = await enrol(client, agency, programme["id"], csv_body(rows))
    assert (out["rows"], out["accepted"]) == (3, 2)
    report = await client.get(out["report_url"], headers=agency.checker)
    lines = [dict(line) for line in csv.DictReader(io.StringIO(report.text))]
    assert lines == [
        {"line": "2", "person_id": people[2].person_id, "amount": "500000", "agency_reference": "A-1",
         "outcome": "accepted", "reason": ""},
        {"line": "3", "person_id": "x1", "amount": "", "agency_reference": "A-2", "outcome": "rejected",
         "reason": "malformed_id"},
        {"line": "4", "person_id": people[0].person_id, "amount": "500000", "agency_reference": "A-3",
         "outcome": "accepted", "reason": ""},
    ]  # fmt: skip


async def test_the_database_refuses_a_beneficiary_of_no_programme_or_moved_to_another(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    # The programme reference is checked per statement (migration 0405), not by a foreign key.
    person = (await add_residents(db, 1))[0]
    programme = await make_programme(client, agency)
    other = await make_programme(client, agency)
    insert = "INSERT INTO beneficiaries (programme_id, person_id, amount) VALUES ($1, $2, 1)"
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(insert, uuid.uuid4(), person.person_id)
    await db.execute(insert, uuid.UUID(programme["id"]), person.person_id)
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE beneficiaries SET programme_id = $1", uuid.UUID(other["id"]))
    with pytest.raises(asyncpg.PostgresError):
        await db.execute("DELETE FROM programmes WHERE id = $1", uuid.UUID(programme["id"]))


async def test_a_second_upload_rejects_people_already_enrolled(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    people = await add_residents(db, 2)
    programme = await make_programme(client, agency)
    await enrol(client, agency, programme["id"], csv_body([(people[0].person_id, "", "a")]))
    out = await enrol(client, agency, programme["id"], csv_body([(p.person_id, "", "b") for p in people]))
    assert (out["accepted"], out["rejected_by_reason"]) == (1, {"already_enrolled": 1})


async def test_a_file_with_the_wrong_header_is_refused_whole(client: httpx.AsyncClient, agency: Agency) -> None:
    programme = await make_programme(client, agency)
    r = await client.post(
        f"/v1/programmes/{programme['id']}/enrolments",
        content=b"cccd,so_tien\n001040000001,1\n",
        headers={**agency.maker, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/enrolment-file-invalid")


async def test_a_row_with_too_many_columns_names_its_line(client: httpx.AsyncClient, agency: Agency) -> None:
    programme = await make_programme(client, agency)
    r = await client.post(
        f"/v1/programmes/{programme['id']}/enrolments",
        content=b"person_id,amount,agency_reference\n001040000001,1,a\n001040000002,1,a,extra\n",
        headers={**agency.maker, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert "line 2" in r.json()["detail"]


async def test_another_agency_cannot_see_the_programme(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, mint: Any
) -> None:
    programme = await make_programme(client, agency)
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('welfare-hcm', 'welfare', 'HCM')")
    other = await mint(kind="officer", subject="o", org_id="welfare-hcm", roles=frozenset({"welfare_maker"}))
    r = await client.get(f"/v1/programmes/{programme['id']}", headers=other)
    assert r.status_code == 404


async def test_rule_enrolment_takes_residents_aged_80_or_more(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    old = await add_residents(db, 3, born=date(1930, 1, 1))
    await add_residents(db, 2, born=date(1990, 1, 1))
    await add_residents(db, 1, born=date(1930, 1, 1), deceased=True)
    await add_residents(db, 1, born=date(1930, 1, 1), province="079")
    programme = await make_programme(client, agency)
    r = await client.post(
        f"/v1/programmes/{programme['id']}/enrolments/rule",
        json={"provinces": ["001"], "min_age": 80},
        headers=agency.maker,
    )
    assert r.status_code == 201, r.text
    assert r.json()["accepted"] == 3
    enrolled = {r["person_id"] for r in await db.fetch("SELECT person_id FROM beneficiaries")}
    assert enrolled == {p.person_id for p in old}


async def test_each_enrolment_is_audited_with_its_counts(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    programme = await make_programme(client, agency)
    person = (await add_residents(db, 1))[0]
    await enrol(client, agency, programme["id"], csv_body([(person.person_id, "", "r1"), ("123", "", "r2")]))
    row = await db.fetchrow("SELECT actor, subject, details FROM audit_log WHERE action = 'programme.enrolled'")
    assert row["subject"] == f"programme:{programme['id']}"
    assert (row["details"]["rows"], row["details"]["accepted"]) == (2, 1)
    assert row["actor"].startswith("officer:")


async def test_concurrent_uploads_enrol_each_person_once(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool
) -> None:
    people = await add_residents(db, 6)
    programme = await make_programme(client, agency)
    body = csv_body([(p.person_id, "", f"R{i}") for i, p in enumerate(people)])
    first, second = await asyncio.gather(*(enrol(client, agency, programme["id"], body) for _ in range(2)))
    assert sorted((first["accepted"], second["accepted"])) == [0, 6]
    assert max(first["rejected_by_reason"], second["rejected_by_reason"], key=len) == {"already_enrolled": 6}
    assert await db.fetchval("SELECT count(*) FROM beneficiaries") == 6


async def test_time_ordered_ids_are_version_7_and_follow_the_clock(db: asyncpg.Pool) -> None:
    first = await db.fetchval("SELECT time_ordered_uuid()")
    await asyncio.sleep(0.005)
    later = await db.fetchval("SELECT time_ordered_uuid()")
    assert (first.version, first.variant, later.version) == (7, uuid.RFC_4122, 7)
    assert later > first
    # The first 48 bits are the Unix time in milliseconds.
    now = await db.fetchval("SELECT extract(epoch FROM now())::float8")
    assert abs(int.from_bytes(later.bytes[:6], "big") / 1000 - now) < 60


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
async def test_a_line_copy_would_take_for_its_end_marker_is_a_reported_row(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, newline: str
) -> None:
    """A line ``\\.`` ended PostgreSQL's COPY: the rows after it vanished and the upload said 201."""
    people = await add_residents(db, 3)
    programme = await make_programme(client, agency)
    lines = ["person_id,amount,agency_reference", f"{people[0].person_id},,A-1", "\\."]
    lines += [f"{people[1].person_id},,A-2", "\\.", f"{people[2].person_id},,A-3", "\\."]
    body = newline.join(lines).encode()  # the last marker without a line end
    out = await enrol(client, agency, programme["id"], body)
    assert (out["rows"], out["accepted"], out["rejected"]) == (6, 3, 3)
    report = await client.get(out["report_url"], headers=agency.checker)
    outcomes = [(line["line"], line["person_id"], line["outcome"]) for line in csv.DictReader(io.StringIO(report.text))]
    assert outcomes == [
        ("2", people[0].person_id, "accepted"),
        ("3", "\\.", "rejected"),
        ("4", people[1].person_id, "accepted"),
        ("5", "\\.", "rejected"),
        ("6", people[2].person_id, "accepted"),
        ("7", "\\.", "rejected"),
    ]
