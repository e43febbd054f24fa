"""The tablet keys each signer as the server does: QAOfflineRecords.signers (static/js/offline-records.js) against
inspections.models.signer_keys over the rows the server keeps (set_team drops rows without a name).

Generated teams (roles in any order, repeated roles, names empty or made of spaces) go through both; the keys and
their order must be identical. One Node process runs the whole batch, as the engine parity test does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qa_app.inspections.models import TEAM_ROLES, signer_keys

from .test_engine_parity import _node_or_skip

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "offline-records.js"
RUN = ("const r = require(process.argv[1]); let s = ''; process.stdin.on('data', d => s += d);"
       "process.stdin.on('end', () => console.log(JSON.stringify(JSON.parse(s).map("
       "t => r.QAOfflineRecords.signers(t).map(x => x.key)))));")

# Names as typed on a tablet: Vietnamese letters, spaces (ordinary, non-breaking, tabs, line breaks) or nothing.
NAME = st.text(alphabet="Nguyễn Thị Ánh\u00a0\t\n", max_size=8)
TEAM = st.lists(st.fixed_dictionaries({"role": st.sampled_from(TEAM_ROLES), "full_name": NAME,
                                       "position": st.just("")}), max_size=12)


def _server_keys(team: list[dict[str, str]]) -> list[str]:
    return signer_keys([m["role"] for m in team if m["full_name"].strip()])


CASES: list[list[dict[str, str]]] = []


@settings(max_examples=300, deadline=None, database=None)
@given(TEAM)
def _collect(team: list[dict[str, str]]) -> None:
    CASES.append(team)


def test_the_tablet_keys_signers_as_the_server_does() -> None:
    node = _node_or_skip()
    _collect()
    # A named member, an unnamed head, another member: the second member is "member-2".
    CASES.append([{"role": "member", "full_name": "An", "position": ""},
                  {"role": "head", "full_name": " ", "position": ""},
                  {"role": "member", "full_name": "Bình", "position": ""}])
    done = subprocess.run([node, "-e", RUN, str(SCRIPT)], input=json.dumps(CASES).encode("utf-8"),
                          capture_output=True, check=True, timeout=120)
    tablet = json.loads(done.stdout)
    assert len(tablet) == len(CASES) >= 300
    for team, keys in zip(CASES, tablet, strict=True):
        assert keys == _server_keys(team), team
    assert tablet[-1] == ["member", "member-2"]
