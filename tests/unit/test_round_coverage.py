"""Coverage arithmetic of supervision rounds: denominators with facilities opening and closing, overdue, communes."""

from __future__ import annotations

import datetime as dt

import pytest

from qa_app.rounds.coverage import FacilityVisit, RoundWindow, coverage, is_overdue, is_required, state, total

D = dt.date
WINDOW = RoundWindow(start=D(2026, 4, 1), deadline=D(2026, 4, 30), target=80.0)
OLD = D(2015, 1, 1)


def fac(fid: int, *, group: int = 1, commune: int | None = None, visit: str = "none", assigned: bool = True,
        active_from: dt.date = OLD, active_to: dt.date | None = None, due: dt.date | None = None) -> FacilityVisit:
    return FacilityVisit(facility_id=fid, group_id=group, commune_id=commune if commune is not None else fid,
                         active_from=active_from, active_to=active_to, visit=visit, assigned=assigned, due=due)


def test_share_of_facilities_per_district_against_the_target() -> None:
    facilities = [fac(1, visit="approved"), fac(2, visit="done"), fac(3, visit="draft"), fac(4), fac(5),
                  fac(6, group=2, visit="done"), fac(7, group=2, visit="done", assigned=False)]
    rows = coverage(facilities, WINDOW, D(2026, 4, 20))
    g1, g2 = rows
    assert (g1.group_id, g1.required, g1.visited, g1.planned, g1.done, g1.approved) == (1, 5, 2, 5, 2, 1)
    assert g1.value == pytest.approx(40.0)
    assert g1.meets_target is False
    # 80% of 5 is 4: two more visits needed.
    assert g1.needed == 2
    assert (g2.required, g2.visited, g2.planned, g2.value, g2.meets_target, g2.needed) == (2, 2, 1, 100.0, True, 0)
    t = total(rows, WINDOW)
    assert (t.required, t.visited, t.done, t.approved) == (7, 4, 4, 1)
    assert t.states == {"approved": 1, "done": 3, "in_progress": 1, "planned": 2}


def test_target_reached_exactly_is_met_without_float_noise() -> None:
    # 4/5 = 80% exactly; 0.8 * 5 must not become 4.000000001 and ask for a fifth visit.
    facilities = [fac(i, visit="done") for i in range(1, 5)] + [fac(5)]
    (g,) = coverage(facilities, WINDOW, D(2026, 4, 10))
    assert g.value == pytest.approx(80.0)
    assert g.meets_target is True
    assert g.needed == 0
    # 7 facilities at 80%: 5.6 rounds up to 6.
    (g7,) = coverage([fac(i) for i in range(7)], WINDOW, D(2026, 4, 10))
    assert g7.needed == 6


def test_facility_closed_during_the_round_without_a_visit_leaves_the_denominator() -> None:
    closed = fac(2, active_to=D(2026, 4, 15))
    # Before it closes it is still required.
    assert is_required(closed, WINDOW, D(2026, 4, 10))
    assert not is_required(closed, WINDOW, D(2026, 4, 20))
    (g,) = coverage([fac(1, visit="done"), closed], WINDOW, D(2026, 4, 20))
    assert (g.required, g.visited, g.value) == (1, 1, 100.0)
    assert state(closed, WINDOW, D(2026, 4, 20)) == "not_required"
    # After the deadline the reference day stays the deadline: still out.
    (g_after,) = coverage([fac(1, visit="done"), closed], WINDOW, D(2026, 6, 1))
    assert g_after.required == 1


def test_facility_closed_after_its_visit_still_counts() -> None:
    visited_then_closed = fac(2, visit="approved", active_to=D(2026, 4, 15))
    (g,) = coverage([fac(1), visited_then_closed], WINDOW, D(2026, 4, 20))
    assert (g.required, g.visited, g.approved) == (2, 1, 1)
    assert g.value == pytest.approx(50.0)


def test_facility_opened_during_the_round_counts_only_if_visited() -> None:
    new = fac(2, active_from=D(2026, 4, 10))
    new_visited = fac(3, active_from=D(2026, 4, 10), visit="done")
    (g,) = coverage([fac(1, visit="done"), new, new_visited], WINDOW, D(2026, 4, 20))
    assert (g.required, g.visited) == (2, 2)
    assert state(new, WINDOW, D(2026, 4, 20)) == "not_required"
    # Not required, hence never overdue either.
    assert not is_overdue(new, WINDOW, D(2026, 5, 5))


def test_closed_before_the_round_started_is_never_required() -> None:
    gone = fac(1, active_to=D(2026, 3, 31))
    assert not is_required(gone, WINDOW, D(2026, 4, 1))


def test_overdue_after_the_deadline_or_the_visit_due_date() -> None:
    plain = fac(1)
    early = fac(2, due=D(2026, 4, 10))
    assert not is_overdue(plain, WINDOW, D(2026, 4, 30))  # the deadline day itself is still on time
    assert is_overdue(plain, WINDOW, D(2026, 5, 1))
    assert not is_overdue(early, WINDOW, D(2026, 4, 10))
    assert is_overdue(early, WINDOW, D(2026, 4, 11))
    assert state(early, WINDOW, D(2026, 4, 11)) == "overdue"
    # A draft does not save a visit from being overdue; a submitted one does.
    assert is_overdue(fac(3, visit="draft"), WINDOW, D(2026, 5, 1))
    assert not is_overdue(fac(4, visit="done"), WINDOW, D(2026, 5, 1))
    # Unassigned facilities are not overdue: nobody was asked to go.
    unassigned = fac(5, assigned=False)
    assert not is_overdue(unassigned, WINDOW, D(2026, 5, 1))
    assert state(unassigned, WINDOW, D(2026, 5, 1)) == "unassigned"
    (g,) = coverage([plain, early, unassigned], WINDOW, D(2026, 5, 1))
    assert (g.overdue, g.unassigned, g.planned) == (2, 1, 2)


def test_a_due_date_after_the_deadline_is_capped_by_the_deadline() -> None:
    late = fac(1, due=D(2026, 5, 31))
    assert is_overdue(late, WINDOW, D(2026, 5, 1))


def test_communes_basis_counts_communes_with_at_least_one_visit() -> None:
    window = RoundWindow(start=D(2026, 4, 1), deadline=D(2026, 4, 30), target=80.0, basis="communes")
    facilities = [
        fac(1, commune=10, visit="done"), fac(2, commune=10),            # commune 10 covered
        fac(3, commune=11),                                              # commune 11 not covered
        fac(4, commune=12, visit="approved"),                            # commune 12 covered
        fac(5, commune=13, active_to=D(2026, 4, 5)),                     # closed, unvisited: commune 13 drops out
        fac(6, group=2, commune=20, visit="done"),
    ]
    g1, g2 = coverage(facilities, window, D(2026, 4, 20))
    assert (g1.communes_required, g1.communes_covered) == (3, 2)
    assert g1.value == pytest.approx(200 / 3)
    assert g1.meets_target is False
    assert g1.needed == 1  # 80% of 3 communes is 2.4: three communes
    assert (g2.communes_required, g2.communes_covered, g2.value) == (1, 1, 100.0)
    t = total([g1, g2], window)
    assert (t.communes_required, t.communes_covered) == (4, 3)
    assert t.value == pytest.approx(75.0)


def test_nothing_required_has_no_value() -> None:
    assert coverage([], WINDOW, D(2026, 4, 1)) == []
    (g,) = coverage([fac(1, active_from=D(2026, 4, 15))], WINDOW, D(2026, 4, 20))
    assert g.required == 0
    assert g.value is None
    assert g.meets_target is None


def test_whole_round_as_one_row() -> None:
    rows = coverage([fac(1, group=1, visit="done"), fac(2, group=2)], WINDOW, D(2026, 4, 20), by_group=False)
    assert len(rows) == 1
    assert (rows[0].group_id, rows[0].required, rows[0].visited) == (None, 2, 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": D(2026, 5, 1), "deadline": D(2026, 4, 1), "target": 80.0}, "deadline"),
    ({"start": D(2026, 4, 1), "deadline": D(2026, 4, 30), "target": 120.0}, "target"),
    ({"start": D(2026, 4, 1), "deadline": D(2026, 4, 30), "target": 80.0, "basis": "hamlets"}, "basis"),
])
def test_window_refuses_nonsense(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoundWindow(**kwargs)
