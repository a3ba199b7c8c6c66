"""One reading rule for every CSV a user gives (eventstudy.io_utils.CSV_RULE): UTF-8 with or without
BOM, blank and '#' lines skipped, a quoted cell may span lines, errors name the line an editor shows."""
from __future__ import annotations


import pandas as pd
import pytest

from eventstudy.data.limits import load_limits
from eventstudy.errors import InputError
from eventstudy.inputs.events import load_events, load_firm_events
from eventstudy.inputs.hypotheses import load_hypotheses
from eventstudy.inputs.instruments import load_instruments
from eventstudy.inputs.universe import load_confounders, load_universe
from eventstudy.io_utils import csv_records

CASES = {
    "events": (load_events, "event_id,date,time,timezone,label,category,source\n"
               "ban,2026-01-06,17:25,Asia/Tokyo,\"Dual-use\nban\",TRD,s\n", "date", "2026-01-32"),
    "firm_events": (load_firm_events, "ticker,date\n7203.T,2026-01-06\n", "date", "2026-01-32"),
    "universe": (load_universe, "ticker,group,benchmark\n7203.T,autos,1306.T\n", "ticker", ""),
    "instruments": (load_instruments, "ticker,exchange\n7203.T,XTKS\n", "exchange", "MOON"),
    "confounders": (load_confounders, "date,market,description,source\n2026-01-13,XTKS,rally,note\n", "date",
                    "13/01/2026"),
    "hypotheses": (lambda p: load_hypotheses(p), "hypothesis_id,event_id,group,window,expected_sign\n"
                   "H1,ban,autos,\"0,1\",-\n", "expected_sign", "sideways"),
    "limits": (load_limits, "date,ticker,up_limit,low_limit\n2026-01-07,7203.T,0,1\n", "date", "2026-13-01"),
}


def _with_comments_and_bom(text: str) -> bytes:
    head, *body = text.split("\n", 1)
    return ("\ufeff# a comment before the header\n\n" + head + "\n# a comment line\n,,\n" + "".join(body)).encode()


@pytest.mark.parametrize("name", CASES)
def test_every_reader_skips_comments_blank_lines_and_a_bom(tmp_path, name):
    load, text, _, _ = CASES[name]
    plain, decorated = tmp_path / "plain.csv", tmp_path / "decorated.csv"
    plain.write_text(text, encoding="utf-8")
    decorated.write_bytes(_with_comments_and_bom(text))
    a, b = load(plain), load(decorated)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_like=True)


@pytest.mark.parametrize("name", CASES)
def test_every_reader_names_the_editor_line_after_comments(tmp_path, name):
    load, text, column, bad = CASES[name]
    head, row = text.split("\n", 1)
    cols = head.split(",")
    cells = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False).iloc[0].tolist()
    cells[cols.index(column)] = bad
    quoted = ",".join(f'"{c}"' if ("," in c or "\n" in c) else c for c in cells)
    path = tmp_path / "bad.csv"
    # header on line 2, comment on 3, blank on 4, the bad row on line 5
    path.write_text("# comment\n" + head + "\n# another\n\n" + quoted + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load(path)
    assert "line 5" in str(exc.value), str(exc.value)


def test_records_keep_the_line_span_of_a_multiline_cell():
    recs = csv_records('a,b\n1,"x\ny"\n# c\n2,z\n', "t", InputError)
    assert [(f, l) for f, l, _ in recs] == [(1, 1), (2, 3), (5, 5)]
    assert recs[1][2] == ["1", "x\ny"]


def test_bad_csv_names_the_file_and_line():
    with pytest.raises(InputError, match=r"t, line 2: not valid CSV"):
        csv_records('a,b\n1,"x"y\n', "t", InputError)
