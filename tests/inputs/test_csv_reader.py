"""One reader for users' CSV files (io_utils.CSV_RULE), beyond test_csv_rule.py: the excluded-names
file too, empty files, strict and lenient quoting, the field-size limit, the problems formatter, and
the price-limit file's own cases."""
from __future__ import annotations

import pytest

from eventstudy.data.limits import LimitsFileError, load_limits
from eventstudy.errors import EventsFileError, InstrumentError, UniverseFileError
from eventstudy.inputs.events import load_events, load_firm_events
from eventstudy.inputs.instruments import load_instruments
from eventstudy.inputs.universe import load_confounders, load_excluded, load_universe
from eventstudy.io_utils import CSV_RULE, csv_records, problems_message

EVENTS_HEADER = "event_id,date,time,timezone,label,category,source"

#: loader, error class, header, a good row, a bad row and what the message must say about it
CASES = {
    "events": (load_events, EventsFileError, EVENTS_HEADER,
               "a,2026-01-06,16:25,Asia/Shanghai,A,EXC,s", "b,2026-02-30,,,B,EXC,s", "2026-02-30"),
    "firm events": (load_firm_events, EventsFileError, "ticker,date",
                    "7203.T,2026-01-06", "7267.T,2026-02-30", "2026-02-30"),
    "universe": (load_universe, UniverseFileError, "ticker,group,benchmark",
                 "7203.T,autos,1306.T", ",autos,1306.T", "empty ticker"),
    "confounders": (load_confounders, UniverseFileError, "date,market,description,source",
                    "2026-01-06,XTKS,x,y", "06/01/2026,XTKS,x,y", "is not YYYY-MM-DD"),
    "excluded": (load_excluded, UniverseFileError, "ticker,name,note_group,reason",
                 "6501.T,Hitachi,g,r", "6502.T,Toshiba,g", "3 cells but the header has 4"),
    "instruments": (load_instruments, InstrumentError, "ticker,exchange",
                    "7203.T,XTKS", "7267.T,NOPE", "7267.T"),
    "limits": (load_limits, LimitsFileError, "date,ticker,up_limit,low_limit",
               "2026-01-06,7203.T,1,0", "2026-13-01,7267.T,0,1", "2026-13-01"),
}


def _file(tmp_path, name: str, lines: list[str]):
    p = tmp_path / f"{name.replace(' ', '_')}.csv"
    p.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))   # with a BOM, as Excel saves
    return p


@pytest.mark.parametrize("name", list(CASES))
def test_every_reader_skips_comments_and_blank_lines(tmp_path, name):
    """A BOM, a comment before the header, a comment and blank lines among the rows: one row read."""
    load, _, header, good, _, _ = CASES[name]
    n_cells = header.count(",") + 1
    p = _file(tmp_path, name, ["# written by hand", header, "", "  # a note on the next row", good,
                               "," * (n_cells - 1), ""])
    out = load(p)
    assert len(out) == 1


@pytest.mark.parametrize("name", list(CASES))
def test_every_reader_names_the_line_an_editor_shows(tmp_path, name):
    """Line numbers count the skipped lines: the bad row is line 7 of the file."""
    load, error, header, good, bad, says = CASES[name]
    p = _file(tmp_path, name, ["# comment", header, good, "", "# another", "", bad])
    with pytest.raises(error) as ei:
        load(p)
    msg = str(ei.value)
    assert "line 7" in msg and says in msg and p.name in msg
    assert "line 6" not in msg and "line 5" not in msg


@pytest.mark.parametrize("name", list(CASES))
def test_every_reader_says_an_empty_file_is_empty(tmp_path, name):
    load, error, *_ = CASES[name]
    p = _file(tmp_path, name, ["# only a comment", ""])
    with pytest.raises(error, match="empty|no header"):
        load(p)


def test_csv_records_line_spans_and_rule():
    text = '# c\nh1,h2\n\n"multi\nline",x\n , \n#x,y\n  # z,1\nlast,1\n'
    recs = csv_records(text, "f", EventsFileError)
    assert recs == [(2, 2, ["h1", "h2"]), (4, 5, ["multi\nline", "x"]), (9, 9, ["last", "1"])]
    assert "'#'" in CSV_RULE and "blank" in CSV_RULE


def test_csv_records_bad_quote_strict_and_lenient():
    text = 'a,b\n"x"y,1\n'
    with pytest.raises(UniverseFileError, match=r"^f, line 2: not valid CSV"):
        csv_records(text, "f", UniverseFileError)
    assert csv_records(text, "f", UniverseFileError, strict=False)[1][2] == ["xy", "1"]


def test_csv_records_field_limit_names_the_line():
    import csv

    text = "a,b\n1,2\n\"" + "x" * (csv.field_size_limit() + 10) + "\n"
    with pytest.raises(EventsFileError, match=r"f, line 3: a field is longer than"):
        csv_records(text, "f", EventsFileError, strict=False)


def test_problems_message_counts_and_caps():
    assert problems_message("F", ["line 2: a"]) == "F has 1 problem:\n  line 2: a"
    many = [f"line {i}: x" for i in range(27)]
    msg = problems_message("F", many)
    assert msg.startswith("F has 27 problems:\n") and msg.count("\n  line ") == 20 and msg.endswith("\n  ... and 7 more")


def test_limits_field_count_and_duplicate_columns(tmp_path):
    p = tmp_path / "lim.csv"
    p.write_text("date,ticker,up_limit,low_limit\n2026-01-06,7203.T,1\n2026-01-07,7203.T,1,0,9\n", encoding="utf-8")
    with pytest.raises(LimitsFileError) as ei:
        load_limits(p)
    assert "2 problems" in str(ei.value) and "line 2: 3 cells" in str(ei.value) and "line 3: 5 cells" in str(ei.value)
    p.write_text("# c\ndate,ticker\n2026-01-06,7203.T,up\n", encoding="utf-8")
    with pytest.raises(LimitsFileError, match=r"lim.csv', line 3: 3 cells but the header has 2"):
        load_limits(p)
    p.write_text("date,ticker,kind,Kind\n2026-01-06,7203.T,up,up\n", encoding="utf-8")
    with pytest.raises(LimitsFileError, match="kind appear more than once"):
        load_limits(p)


def test_limits_hash_inside_a_cell_is_data(tmp_path):
    """Only a line whose first cell starts with '#' is a comment; a '#' later on a line is data."""
    p = tmp_path / "lim.csv"
    p.write_text("date,ticker,kind,note\n2026-01-06,7203.T,up,see #3\n", encoding="utf-8")
    lim = load_limits(p)
    assert lim[["ticker", "kind"]].values.tolist() == [["7203.T", "up"]]


@pytest.mark.parametrize("name", list(CASES))
def test_every_reader_puts_the_file_on_its_error(tmp_path, name):
    """InputError.path names the file for every loader; line is set where one line is at fault."""
    load, error, header, good, bad, _ = CASES[name]
    p = _file(tmp_path, name, [header, good, bad])
    with pytest.raises(error) as ei:
        load(p)
    assert ei.value.path == str(p)


def test_line_field_of_single_line_errors(tmp_path):
    p = tmp_path / "lim.csv"
    p.write_text("# c\ndate,ticker,up_limit,low_limit\n\n2026-13-01,7203.T,1,0\n", encoding="utf-8")
    with pytest.raises(LimitsFileError) as ei:
        load_limits(p)
    assert (ei.value.path, ei.value.line) == (str(p), 4)
    p.write_bytes(b"ticker,exchange\n7203.T,XTKS\n\xff\n")
    with pytest.raises(InstrumentError) as ei:
        load_instruments(p)
    assert (ei.value.path, ei.value.line) == (str(p), 3) and "not UTF-8" in str(ei.value)
    p.write_text('ticker,group,benchmark\n7203.T,"autos\n', encoding="utf-8")
    with pytest.raises(UniverseFileError) as ei:
        load_universe(p)
    assert (ei.value.path, ei.value.line) == (str(p), 2) and "line 2: not valid CSV" in str(ei.value)


def test_path_given_by_a_raise_site_is_kept(tmp_path):
    from eventstudy.io_utils import about_file

    with pytest.raises(UniverseFileError) as ei:
        with about_file(tmp_path / "outer.csv"):
            raise UniverseFileError("x", path="inner.csv")
    assert ei.value.path == "inner.csv"
    with pytest.raises(UniverseFileError) as ei:
        with about_file(tmp_path / "outer.csv"):
            raise UniverseFileError("x")
    assert ei.value.path == str(tmp_path / "outer.csv")


def test_path_by_keyword_and_the_bundled_file(tmp_path):
    p = _file(tmp_path, "universe", ["ticker,group,benchmark", ",autos,1306.T"])
    with pytest.raises(UniverseFileError) as ei:
        load_universe(path=p)
    assert ei.value.path == str(p)
    assert len(load_universe()) > 0          # path=None: the bundled study's universe
