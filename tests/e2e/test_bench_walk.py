"""The benchmark's tablet walk (scripts/bench_walk.py) completes a real inspection and counts what it did.

The figures themselves (taps, screens) are recorded by `bash scripts/bench.sh`, never asserted as speed; what is
checked here is that the walk ends in a submitted inspection with every applicable item answered as it says, and
that its tap count is exactly the taps it made: one per item, one per step between sections in focused mode,
and the finishing page's.
"""

from __future__ import annotations

from types import ModuleType

import pytest
import sqlalchemy as sa

from .. import inspection_fixtures as fx
from .. import review_fixtures as rf
from ..script_loader import load_script


@pytest.fixture(scope="module")
def bench_walk() -> ModuleType:
    return load_script("bench_walk")


@pytest.mark.parametrize("focused", [False, True], ids=["normal", "focused"])
def test_the_walk_submits_a_whole_inspection_and_counts_its_taps(live_server, browser, playwright_instance,
                                                                  bench_walk, focused) -> None:
    from qa_app.extensions import db
    from qa_app.facilities.models import Facility
    from qa_app.inspections import services
    from qa_app.inspections.models import Answer, Inspection
    from qa_app.scoring import applicable_items

    app = live_server.app
    ids = fx.build_world(app)
    with app.app_context():
        # As in the register: the station's head, who comes prefilled as the facility's representative.
        db.session.get_one(Facility, ids["tyt"]).head_name = "Phạm Thị Dung"
        db.session.commit()
    with app.test_request_context():
        from qa_app.i18n import local_today

        today = local_today()
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=today)
    result = bench_walk.walk_with(browser, playwright_instance.devices["Galaxy Tab S4"], live_server.url,
                                  "giamsat1", fx.PASSWORD, inspection_id, focused=focused, failures=3)

    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert inspection.status == "submitted"
        answers = db.session.scalars(sa.select(Answer).where(Answer.inspection_id == inspection_id)).all()
        assert len(answers) == result.items > 50
        assert sum(a.value == "not_met" for a in answers) == result.failed == 3
        shown = {item.id for item, ok, _r in applicable_items(services.checklist_for(inspection),
                                                              services.profile_of(inspection)) if ok}
        sections_shown = sum(1 for section in services.checklist_for(inspection).sections
                             if any(item.id in shown for item in section.items))
    assert sections_shown > 3
    # Focused mode: one "Next section" tap, and one new view, per section after the first.
    sections = sections_shown - 1 if focused else 0
    # The finishing page: "Finish", one corrective action per failure (who and by when come prefilled), "no
    # opinion", "Save", a stroke and "Save signature" per signer (names prefilled), "Submit".
    assert result.taps_by_step == {"form": result.items + sections, "finish": 1 + 3 + 1 + 1,
                                   "signatures": 4, "submit": 1}
    assert result.taps == sum(result.taps_by_step.values())
    assert result.views == 1 + sections + 3
    assert result.screens > result.views
