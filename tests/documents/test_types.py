"""Document-type plugins: schemas, field rules, labels, groups."""

from __future__ import annotations

import datetime as dt

import httpx
import jsonschema
import pytest

from documents.types import DocumentInvalid, all_types, get_type
from tests.documents.conftest import id_card_claims, licence_claims


def test_every_type_has_labels_in_both_languages_and_a_card() -> None:
    codes = {t.code for t in all_types()}
    assert codes == {
        "chip_id_card",
        "driving_licence",
        "vehicle_registration",
        "health_insurance_card",
        "vehicle_liability_insurance",
        "social_insurance_record",
    }
    for t in all_types():
        for name in t.disclosable:
            label = t.label(name)
            assert label.vi and label.en
        assert t.card.headline in t.field_names


def test_licence_parses_to_canonical_claims() -> None:
    claims = get_type("driving_licence").parse(licence_claims())  # type: ignore[union-attr]
    assert claims["classes"][0] == {"code": "A1", "issue_date": "2012-03-01"}
    assert claims["points"] == 12


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classes": [{"code": "Z9", "issue_date": "2020-01-01"}]}, "classes[0].code"),
        (
            {"classes": [{"code": "A1", "issue_date": "2020-01-01", "expiry_date": "2030-01-01"}]},
            "classes[0].expiry_date",
        ),
        ({"classes": [{"code": "B", "issue_date": "2020-01-01"}]}, "classes[0].expiry_date"),
        ({"points": 13}, "points"),
        ({"issue_date": "2025-02-30"}, "issue_date"),
        ({"expiry_date": "2000-01-01"}, "expiry_date"),
    ],
)
def test_licence_rules_refuse_bad_fields(change: dict[str, object], field: str) -> None:
    with pytest.raises(DocumentInvalid) as exc:
        get_type("driving_licence").parse(licence_claims(**change))  # type: ignore[union-attr]
    assert field in {e.field for e in exc.value.errors}


@pytest.mark.parametrize("plate", ["30A-123.45", "51LD-123.45", "29A-1234", "59X1-123.45"])
def test_plates_in_use_are_accepted(plate: str) -> None:
    reg = get_type("vehicle_liability_insurance")
    assert reg is not None
    reg.parse(
        {
            "policy_number": "BV-2025-0001",
            "insurer": "Bảo Việt",
            "plate": plate,
            "owner_name": "A",
            "vehicle_kind": "car",
            "valid_from": "2025-01-01",
            "valid_until": "2026-01-01",
        }
    )


@pytest.mark.parametrize("plate", ["30a-123.45", "30A-12345", "30A 123.45", "05A-123.45", "30-123.45"])
def test_malformed_plates_are_refused(plate: str) -> None:
    reg = get_type("vehicle_liability_insurance")
    assert reg is not None
    with pytest.raises(DocumentInvalid) as exc:
        reg.parse(
            {
                "policy_number": "BV-2025-0001",
                "insurer": "Bảo Việt",
                "plate": plate,
                "owner_name": "A",
                "vehicle_kind": "car",
                "valid_from": "2025-01-01",
                "valid_until": "2026-01-01",
            }
        )
    assert {e.field for e in exc.value.errors} == {"plate"}


def test_id_number_must_agree_with_birth_year_and_sex() -> None:
    card = get_type("chip_id_card")
    assert card is not None
    with pytest.raises(DocumentInvalid) as exc:
        card.parse(id_card_claims(date_of_birth="1991-05-17"))
    assert "id_number" in {e.field for e in exc.value.errors}
    with pytest.raises(DocumentInvalid):
        card.parse(id_card_claims(sex="female"))


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(DocumentInvalid):
        get_type("chip_id_card").parse(id_card_claims(blood_type="O"))  # type: ignore[union-attr]


def test_groups_travel_together_and_unknown_fields_are_refused() -> None:
    reg = get_type("vehicle_registration")
    assert reg is not None
    assert reg.expand(["chassis_number"]) == ["chassis_number", "engine_number"]
    assert reg.expand(["plate"]) == ["plate"]
    with pytest.raises(DocumentInvalid):
        reg.expand(["plate", "password"])


def test_age_over_18_is_derived_on_the_day() -> None:
    card = get_type("chip_id_card")
    assert card is not None
    claims = card.parse(id_card_claims())
    assert card.reveal(claims, ["age_over_18"], dt.date(2008, 5, 17)) == {"age_over_18": True}
    assert card.reveal(claims, ["age_over_18"], dt.date(2008, 5, 16)) == {"age_over_18": False}


def test_card_renders_in_the_holder_language() -> None:
    lic = get_type("driving_licence")
    assert lic is not None
    claims = lic.parse(licence_claims())
    assert lic.render_card(claims, "vi")["title"] == "Giấy phép lái xe"
    face = lic.render_card(claims, "en")["face"]
    assert face[0] == {"field": "licence_number", "label": "Licence number", "value": "001090012345"}


async def test_every_types_claim_schema_is_published_and_judges_claims_as_the_api_does(
    client: httpx.AsyncClient,
) -> None:
    """The published JSON Schema, read by an independent validator (jsonschema), accepts the
    claims the API accepts and refuses what the schema part of the API refuses."""
    listed = (await client.get("/v1/document-types")).json()["types"]
    samples = {"driving_licence": licence_claims(), "chip_id_card": id_card_claims()}
    for described in listed:
        code = described["code"]
        r = await client.get(f"/v1/document-types/{code}/schema")
        assert r.status_code == 200, code
        assert r.headers["content-type"].startswith("application/schema+json")
        assert r.headers["cache-control"] == "public, max-age=3600"
        schema = r.json()
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        names = set(schema["properties"])
        assert names == {f["name"] for f in described["fields"]} - {"age_over_18"}, code
        if code in samples:
            claims = samples[code]
            assert not list(validator.iter_errors(claims)), code
            for broken in ({**claims, "unknown": 1}, {k: v for k, v in claims.items() if k != "full_name"}):
                assert list(validator.iter_errors(broken)), code
                plugin = get_type(code)
                assert plugin is not None
                with pytest.raises(DocumentInvalid):
                    plugin.parse(broken)
    r = await client.get("/v1/document-types/passport/schema")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
