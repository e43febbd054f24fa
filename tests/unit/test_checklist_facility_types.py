"""The facility types added for the 2025 reform get sensible applicable items from the shipped checklists.

fp-quality v2 serves the provincial CDC / RH centre (CDC), the regional polyclinic (PKKV), the maternity home (NHS)
and the workplace or industrial-zone clinic (YTCQ); fp-campaign v1 serves mobile teams (DLD). These tests pin the
choices written in the files' headers, so a later edit that drops a type from an item fails here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qa_app.checklists.loader import load_checklist
from qa_app.checklists.schema import Checklist, FacilityProfile
from qa_app.checklists.tablet import applicable_ids
from qa_app.scoring import score_inspection

CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"
NEW_TYPES = ("CDC", "PKKV", "NHS", "YTCQ")
# Services whose items are procedures (or an injection): none applies to a facility offering only pills/condoms.
PROCEDURES = {"DCTC", "QC", "TS", "TT"}


@pytest.fixture(scope="module")
def v1() -> Checklist:
    return load_checklist(CHECKLISTS / "fp-quality" / "v1.yaml")


@pytest.fixture(scope="module")
def v2() -> Checklist:
    return load_checklist(CHECKLISTS / "fp-quality" / "v2.yaml")


@pytest.fixture(scope="module")
def campaign() -> Checklist:
    return load_checklist(CHECKLISTS / "fp-campaign" / "v1.yaml")


def applicable(checklist: Checklist, facility_type: str, services: set[str]) -> set[str]:
    return set(applicable_ids(checklist, FacilityProfile(facility_type, frozenset(services))))


def test_v2_serves_the_new_types_and_v1_does_not(v1: Checklist, v2: Checklist) -> None:
    assert set(NEW_TYPES) <= set(v2.facility_types)
    # Mobile teams are supervised under the campaign programme, not routine quality.
    assert "DLD" not in v2.facility_types
    # v1 is registered in databases and never edited: the new types have no routine checklist before 2027.
    assert not set(NEW_TYPES) & set(v1.facility_types)
    assert v2.effective_from == dt.date(2027, 1, 1)


def test_a_cdc_offering_iud_and_implants_gets_the_iud_and_implant_items(v2: Checklist) -> None:
    got = applicable(v2, "CDC", {"DCTC", "QC", "VU", "BCS"})
    # Trained provider, instruments, stock, aseptic technique, insertion and removal, for IUDs and implants.
    assert {"C2", "C3", "D3", "D4", "E6", "E7", "F5", "H3", "H4", "H5", "H6", "H7", "H8", "H18"} <= got
    # A public centre like TTYT: FP lead, free-contraceptive policy and stock reports, no operating licence item.
    assert {"A4", "A8", "E13"} <= got and "A1" not in got
    # The provincial CDC runs the supervision: no higher-level visit expected.
    assert "A7" not in got
    # Nothing of the pharmacy section, nor the village collaborators of a commune station.
    assert not {item for item in got if item.startswith("L")} and "C8" not in got
    # Sterilisation items only where sterilisation is offered.
    assert not {"C4", "D9", "H14", "H15"} & got
    assert {"C4", "D9", "H14", "H15"} <= applicable(v2, "CDC", {"TS"})


def test_a_cdc_gets_what_a_district_health_centre_gets_apart_from_the_documented_choices(v2: Checklist) -> None:
    services = {"DCTC", "QC", "TT", "VU", "BCS", "TS"}
    cdc, ttyt = applicable(v2, "CDC", services), applicable(v2, "TTYT", services)
    assert cdc ^ ttyt == {"A7", "I3"}
    assert "I3" in cdc and "A7" in ttyt


def test_a_regional_polyclinic_is_served_like_a_health_centre(v2: Checklist) -> None:
    services = {"DCTC", "QC", "TT", "VU", "BCS"}
    pkkv, ttyt = applicable(v2, "PKKV", services), applicable(v2, "TTYT", services)
    # The referral procedure (I3) is extra: a polyclinic refers complications on.
    assert pkkv - ttyt == {"I3"} and ttyt - pkkv == set()


def test_a_maternity_home_is_served_like_a_private_clinic_with_postpartum_fp(v2: Checklist) -> None:
    services = {"DCTC", "QC", "TT", "VU", "BCS"}
    nhs, pk = applicable(v2, "NHS", services), applicable(v2, "PK", services)
    # Postpartum IUD where deliveries happen: the only difference from a private clinic.
    assert nhs - pk == {"G17"} and pk - nhs == set()
    assert {"A1", "J7", "G14", "G15", "H17"} <= nhs
    assert "G17" not in applicable(v2, "NHS", {"VU", "BCS"})


def test_a_workplace_clinic_with_pills_and_condoms_gets_no_procedure_item(v2: Checklist) -> None:
    section_of = {item.id: section for section in v2.sections for item in section.items}
    got = applicable(v2, "YTCQ", {"VU", "BCS"})
    for item_id in got:
        offers = set(v2.item(item_id).applies_if_offers) | set(section_of[item_id].applies_if_offers)
        assert not offers or offers - PROCEDURES, f"{item_id} is a procedure item"
    # Abortion and post-abortion care are not a workplace clinic's, nor is the procedure room.
    assert not {"B7", "C2", "C3", "C4", "D3", "F3", "H3", "H9", "H14", "H17", "G15", "G17", "I1"} & got
    # What it does: counselling, pills and condoms, records, licence and new-user data as a private clinic.
    assert {"A1", "A5", "E1", "E4", "G3", "G4", "G9", "G16", "H11", "H13", "J1", "J7"} <= got
    # Injectables, when it offers them, bring the injection items.
    assert {"E3", "H9", "H10", "H19"} <= applicable(v2, "YTCQ", {"VU", "BCS", "TT"})


@pytest.mark.parametrize("facility_type", NEW_TYPES)
def test_every_new_type_can_be_scored_to_meets_and_pharmacy_rules_are_untouched(
    v2: Checklist, facility_type: str
) -> None:
    profile = FacilityProfile(facility_type, frozenset({"DCTC", "QC", "TT", "VU", "BCS"}))
    answers = {item.id: "met" if item.answer_type == "yes_no_na" else str(item.scale_max)
               if item.answer_type == "scale" else "1" for item in v2.items}
    score = score_inspection(v2, profile, answers)
    assert score.complete and score.classification == "meets"
    # No new type reaches the pharmacy section, and a pharmacy gets nothing it did not get before the new types.
    assert not [i for i, r in score.items.items() if r.applicable and i.startswith("L")]
    assert applicable(v2, "NT", {"VU", "BCS"}) == {
        "A1", "A2", "A3", "A6", "A9", "B6", "B8", "E1", "E2", "E4", "E5", "E8", "E9", "E10", "E11", "E12",
        "G1", "G2", "G5", "G6", "G7", "G10", "G11", "G12", "J4", "K1", "K3",
        "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8"}


def test_the_waste_circular_is_cited_for_the_new_types_but_not_for_pharmacies(v2: Checklist) -> None:
    on = dt.date(2027, 3, 1)
    waste = [basis for basis in v2.legal_basis if "20/2021/TT-BYT" in basis.vi]
    assert len(waste) == 1
    assert all(waste[0].applies(t, on) for t in NEW_TYPES) and not waste[0].applies("NT", on)


def test_a_mobile_team_gets_the_campaign_mobile_team_sections(campaign: Checklist) -> None:
    assert set(campaign.facility_types) == {"TYT", "DLD"}
    dld = applicable(campaign, "DLD", {"DCTC", "QC", "TT"})
    assert dld == {"M4.1", "M4.2", "M4.3", "M4.4", "M5.1", "M5.2", "M5.3"}
    # The station keeps the commune's organisation, the progress figures and the outreach site, not the team's
    # own credentials and kit.
    tyt = applicable(campaign, "TYT", {"DCTC", "QC", "TT"})
    assert {"M1.1", "M2.1", "M3.1", "M6.1", "M7.1", "M4.3", "M4.4", "M5.1"} <= tyt
    assert not {"M4.1", "M4.2"} & tyt


def test_a_mobile_team_visit_is_scored_on_the_services_group_only(campaign: Checklist) -> None:
    profile = FacilityProfile("DLD", frozenset({"DCTC", "QC", "TT"}))
    met = {item.id: "met" if item.answer_type == "yes_no_na" else str(item.scale_max)
           if item.answer_type == "scale" else "1" for item in campaign.items}
    score = score_inspection(campaign, profile, met)
    assert score.complete and score.classification == "meets"
    by_group = {g.group_id: g for g in score.groups}
    assert by_group["services"].applicable and by_group["services"].classification == "meets"
    assert not by_group["organisation"].applicable and not by_group["progress"].applicable
    # The team's licensed providers are critical for the team.
    failed = score_inspection(campaign, profile, {**met, "M4.1": "not_met"})
    assert failed.classification == "does_not_meet" and failed.critical_failures == ("M4.1",)


def test_the_tablet_computes_the_same_applicable_items_for_the_new_types(
    v2: Checklist, campaign: Checklist
) -> None:
    """The tablet applies only items' and sections' types: fp-campaign repeats its groups' types on the sections."""
    from qa_app.checklists.tablet import applicable_hash, checklist_json, profile_json
    from tests.unit.test_engine_parity import run_node

    cases = [(checklist, FacilityProfile(facility_type, frozenset(services)))
             for checklist, types in ((v2, NEW_TYPES), (campaign, ("TYT", "DLD")))
             for facility_type in types
             for services in ((), ("VU", "BCS"), ("DCTC", "QC", "TT", "VU", "BCS", "TS"))]
    results = run_node([{"checklist": checklist_json(c), "profile": profile_json(p), "answers": {}}
                        for c, p in cases])
    for (checklist, profile), js in zip(cases, results, strict=True):
        assert js["applicable"] == applicable_ids(checklist, profile), (checklist.code, profile)
        assert js["applicable_hash"] == applicable_hash(checklist, profile)
