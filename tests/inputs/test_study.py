"""A study as data (eventstudy.inputs.study): study.toml read into Study / Labels / StudyDefaults."""
from __future__ import annotations

import pickle
import tomllib

import pytest

from eventstudy.errors import EventStudyError, StudyConfigError
from eventstudy.inputs.study import BUNDLED_STUDY_DIR, Labels, Style, bundled_study, load_study


def _folder(tmp_path, toml: str, files=("events.csv", "universe.csv")):
    for f in files:
        (tmp_path / f).write_text("x\n", encoding="utf-8")
    (tmp_path / "study.toml").write_text(toml, encoding="utf-8")
    return tmp_path


MINIMAL = '[files]\nevents = "events.csv"\nuniverse = "universe.csv"\n'


def test_bundled_study_is_the_toml_it_ships():
    s = bundled_study()
    raw = tomllib.loads((BUNDLED_STUDY_DIR / "study.toml").read_text(encoding="utf-8"))
    assert s.name == raw["name"]
    assert s.labels.order == tuple(raw["labels"]["order"])
    assert dict(s.labels.long) == raw["labels"]["long"]
    assert s.defaults.base_group == raw["defaults"]["base_group"]
    assert s.defaults.extra_factors == tuple(raw["defaults"]["extra_factors"])
    for key in ("events", "universe", "hypotheses", "confounders", "excluded"):
        assert getattr(s, key) == (BUNDLED_STUDY_DIR / raw["files"][key]).resolve()
        assert getattr(s, key).is_file()


def test_minimal_study_has_neutral_defaults_and_id_labels(tmp_path):
    s = load_study(_folder(tmp_path, MINIMAL))
    assert s.name == tmp_path.name and s.hypotheses is None and s.confounders is None
    assert s.defaults.base_group is None and s.defaults.not_pooled == () and s.defaults.timeline == ()
    assert s.labels.label("exporters") == "exporters"
    assert s.labels.label("all") == "All equities (pooled)"
    assert s.labels.ordered(["b", "all", "a"]) == ["b", "a", "all"]


def test_labels_order_fallback_styles_and_pickle():
    lab = Labels(order=("z", "y"), long={"z": "Zed"}, short={"z": "Z"},
                 style={"z": Style("#000000", "o", "-")}, sections={"futures": "ETFs"})
    assert lab.ordered(["q", "y", "all", "z"]) == ["z", "y", "q", "all"]
    assert lab.label("z") == "Zed" and lab.label("z", short=True) == "Z" and lab.label("y") == "y"
    st = lab.styles(["z", "q", "p", "all"])
    assert st["z"] == Style("#000000", "o", "-")
    assert st["p"] != st["q"]                                   # distinct fallbacks, by sorted name
    assert st == lab.styles(["all", "p", "q", "z"])             # the same group looks the same everywhere
    assert lab.section("futures", "Non-equity") == "ETFs" and lab.section("x", "d") == "d"
    back = pickle.loads(pickle.dumps(lab))
    assert back == lab and back.label("z") == "Zed"
    with pytest.raises(TypeError):
        lab.long["z"] = "changed"                               # immutable


@pytest.mark.parametrize("toml,needle", [
    ("[files\nevents=1", "not valid TOML"),
    (MINIMAL + "colour = 1\n", "unknown key(s) colour"),
    (MINIMAL + "[defaults]\nbase = \"x\"\n", "[defaults]: unknown key(s) base"),
    (MINIMAL + "[defaults]\nbase_group = 3\n", "base_group must be a group id"),
    (MINIMAL + "[defaults]\nnot_pooled = [1]\n", "not_pooled must be a list of strings"),
    (MINIMAL + "[labels]\norder = \"a\"\n[labels.style]\na = [\"#000\", \"o\"]\n", "[labels.style] a"),
    (MINIMAL + "[labels.long]\na = 2\n", "[labels.long] must be a table"),
    (MINIMAL + "[labels.sections]\nfutures = \"x\"\n", "[labels.sections]: unknown key(s) futures"),
    ('[files]\nevents = "events.csv"\n', "universe is missing"),
    ('[files]\nevents = "events.csv"\nuniverse = "nope.csv"\n', "nope.csv"),
])
def test_bad_study_files_are_named(tmp_path, toml, needle):
    folder = _folder(tmp_path, toml)
    with pytest.raises(StudyConfigError) as exc:
        load_study(folder)
    assert needle in str(exc.value) and "study.toml" in str(exc.value)
    assert isinstance(exc.value, EventStudyError)


def test_missing_study_folder(tmp_path):
    with pytest.raises(StudyConfigError, match="no study.toml"):
        load_study(tmp_path / "absent")


def test_cli_names_a_bad_study_folder_without_traceback(tmp_path, capsys):
    from eventstudy.cli import main

    folder = _folder(tmp_path / "s" if (tmp_path / "s").mkdir() is None else tmp_path, MINIMAL + "oops = 1\n")
    out = tmp_path / "out"
    assert main(["run", "--offline", "--study", str(folder), "--out", str(out), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "study.toml" in err and "oops" in err and "Traceback" not in err
    assert not out.exists()                                     # nothing half-written
