"""The referential and the certified scope from a town file, through `load_town` and the
`load-town` command on a real SQLite file: the demo town's phases, the starting engagements, a
town's own list, and a wrong entry refused with an error that names it, nothing loaded."""

from __future__ import annotations

import copy
import io
import json
import re

import pytest

from sync_server import cli
from sync_server.storage import InvalidTown, Storage, migrations, referential, town
from tests.fixtures.server import TOWN


@pytest.fixture
def storage(tmp_path):
    storage = Storage.from_url(f"sqlite:///{tmp_path / 'town.db'}")
    migrations.upgrade(storage)
    yield storage
    storage.close()


def scope(storage) -> dict[str, tuple]:
    with storage.read() as connection:
        return {s.slug: (s.phase, s.since, s.engagements) for s in referential.scope(connection)}


def test_the_demo_town_is_certified_in_phases_with_the_starting_engagements(storage):
    with storage.write() as connection:
        town.load_town(connection, TOWN)
        listed = referential.engagements(connection)
        ties = referential.ties(connection)
    found = scope(storage)
    phases = {slug: phase for slug, (phase, _since, _codes) in found.items()}
    assert phases == {
        "iris": 1, "etat-civil": 1, "education": 1, "clavim": 2, "mediatheques": 2,
        "petite-enfance": 3, "ccas": 4, "seniors": 4, "logement": 5,
    }  # fmt: skip
    assert found["mediatheques"][1] == "2020-03"
    assert found["logement"][1] is None  # planned, not certified yet
    defaults = [e.code for e in listed if e.all_services]
    assert list(found["iris"][2]) == defaults
    assert "ACC-07" in found["etat-civil"][2]
    assert "ACC-07" not in found["iris"][2]
    assert "TEL-02" not in found["mediatheques"][2]
    assert ties["within_threshold_rate"] == "ACC-01"
    assert ties["answered_on_time"] == "REC-02"


def test_a_town_file_brings_its_own_engagements_and_page_edits_survive_a_reload(storage):
    own = copy.deepcopy(TOWN)
    own["engagements"] = [
        {"code": "ACC-01", "title": "Nous vous recevons en moins de 10 minutes",
         "channel": "reception", "indicators": ["within_threshold_rate"]},
        {"code": "WEB-01", "title": "Nous répondons au formulaire en ligne sous 8 jours",
         "channel": "mail", "all_services": False},
    ]  # fmt: skip
    for service in own["services"]:
        service["certification"] = {"phase": 1, "since": "2019"}
    own["services"][0]["certification"]["with"] = ["WEB-01"]
    with storage.write() as connection:
        town.load_town(connection, own)
        codes = [e.code for e in referential.engagements(connection)]
    assert codes == ["ACC-01", "WEB-01"]  # not the starting list: the town gave its own
    assert scope(storage)[own["services"][0]["slug"]][2] == ("ACC-01", "WEB-01")
    with storage.write() as connection:
        referential.set_certification(connection, "ccas", phase=2, since="2021")
        town.load_town(connection, {"services": []})
    assert scope(storage)["ccas"][:2] == (2, "2021")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.update(engagements=[{"code": "ACC-01", "title": "x", "channel": "fax"}]),
         r"engagements\[0\]\.channel: one of reception, phone"),
        (lambda t: t["services"][1].update(certification={"phase": 1, "since": "03/2020"}),
         r"services\[etat-civil\]\.certification\.since"),
        (lambda t: t["services"][0].update(certification={"phase": 1, "with": ["ZZZ-01"]}),
         r"services\[iris\]\.certification\.with: unknown engagement 'ZZZ-01'"),
    ],
)  # fmt: skip
def test_a_wrong_referential_is_refused_and_nothing_is_loaded(
    storage, tmp_path, capsys, change, message
):
    wrong = copy.deepcopy(TOWN)
    change(wrong)
    with pytest.raises(InvalidTown, match=message), storage.write() as connection:
        town.load_town(connection, wrong)
    with storage.read() as connection:
        assert town.desks(connection) == []
        assert referential.engagements(connection) == []
    path = tmp_path / "town.json"
    path.write_text(json.dumps(wrong), encoding="utf-8")
    url = str(storage.engine.url)
    assert cli.main(["--database-url", url, "load-town", str(path)], out=io.StringIO()) == 1
    assert re.search(message, capsys.readouterr().err)
