"""Events file reader: good files, every kind of bad input, and the frame entry point."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from eventstudy.errors import EventsFileError, EventStudyError
from eventstudy.inputs.events import OUTPUT_COLUMNS, events_from_frame, load_events, parse_events_text

HEADER = "event_id,date,time,timezone,label,category,source,notes"


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def good_text() -> str:
    return "\n".join([
        HEADER,
        'mofcom,2026-01-06,16:25,Asia/Shanghai,MOFCOM dual-use ban,EXC,gtlaw,"after the close, inferred"',
        "advisory,2025-11-14,23:00,Asia/Shanghai,Travel advisory,TRV,nippon.com,",
        "kyodo,2026-01-10,,,Kyodo REE report,REE,kyodo,",
        "seafood, 2025-11-19 , 9:05 ,Asia/Tokyo,Seafood ban,SEA,joongang,",  # whitespace, 1-digit hour
    ]) + "\n"


# ------------------------------------------------------------------------------------ good input
def test_load_good_file_shapes_and_values(tmp_path):
    ev = load_events(write(tmp_path, good_text()))
    assert list(ev.columns) == list(OUTPUT_COLUMNS)
    assert list(ev.index) == [0, 1, 2, 3]
    assert ev["event_id"].tolist() == ["mofcom", "advisory", "kyodo", "seafood"]
    assert str(ev["date"].dtype) == "datetime64[ns]"
    assert ev["date"].tolist() == [pd.Timestamp(d) for d in ("2026-01-06", "2025-11-14", "2026-01-10", "2025-11-19")]
    assert ev["time"].tolist() == ["16:25", "23:00", "", "09:05"]
    assert ev["timezone"].tolist() == ["Asia/Shanghai", "Asia/Shanghai", "", "Asia/Tokyo"]
    assert ev["notes"].tolist() == ["after the close, inferred", "", "", ""]


def test_announced_at_is_the_right_instant(tmp_path):
    ev = load_events(write(tmp_path, good_text()))
    a = ev["announced_at"]
    # 16:25 in Beijing (UTC+8, no DST) is 08:25 UTC = 17:25 JST.
    assert a[0].tz is not None and str(a[0].tz) == "Asia/Shanghai"
    assert a[0].tz_convert("UTC") == pd.Timestamp("2026-01-06 08:25", tz="UTC")
    assert a[0].tz_convert("Asia/Tokyo").strftime("%H:%M") == "17:25"
    assert a[1].tz_convert("UTC") == pd.Timestamp("2025-11-14 15:00", tz="UTC")
    assert a[2] is pd.NaT
    assert a[3] == pd.Timestamp("2025-11-19 00:05", tz="UTC")  # 09:05 JST = 00:05 UTC


def test_timezone_without_time_is_allowed(tmp_path):
    text = HEADER + "\nx,2026-01-10,,Asia/Tokyo,l,c,s,\n"
    ev = load_events(write(tmp_path, text))
    assert ev["announced_at"][0] is pd.NaT and ev["timezone"][0] == "Asia/Tokyo"


def test_optional_notes_missing_and_extra_columns_kept(tmp_path):
    text = "event_id,date,time,timezone,label,category,source,window\nx,2026-01-06,,,l,c,s,wide\n"
    ev = load_events(write(tmp_path, text))
    assert ev["notes"].tolist() == [""]
    assert ev["window"].tolist() == ["wide"]


def test_bom_blank_lines_and_header_case(tmp_path):
    text = "\ufeffEvent_ID, Date ,time,timezone,label,category,source\n\n\na,2026-01-06,,,l,c,s\n\n"
    ev = load_events(write(tmp_path, text))
    assert ev["event_id"].tolist() == ["a"]


def test_dst_time_in_new_york_uses_the_summer_offset(tmp_path):
    text = HEADER + "\nx,2025-07-15,09:30,America/New_York,l,c,s,\n"
    ev = load_events(write(tmp_path, text))
    assert ev["announced_at"][0].tz_convert("UTC") == pd.Timestamp("2025-07-15 13:30", tz="UTC")  # EDT = UTC-4


# ------------------------------------------------------------------------------------ bad input
def err(tmp_path, text, name="events.csv") -> str:
    p = write(tmp_path, text, name)
    with pytest.raises(EventsFileError) as exc:
        load_events(p)
    msg = str(exc.value)
    assert str(p) in msg  # every message names the file
    return msg


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    with pytest.raises(EventsFileError, match="does not exist") as exc:
        load_events(p)
    assert str(p) in str(exc.value)
    assert issubclass(EventsFileError, EventStudyError)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(EventsFileError, match="is a folder"):
        load_events(tmp_path)


@pytest.mark.parametrize("text", ["", "   \n\n  \n"])
def test_empty_file(tmp_path, text):
    assert "is empty" in err(tmp_path, text)


@pytest.mark.parametrize("text", [",,,\n", ",, ,\n,,\n"])
def test_only_empty_cells(tmp_path, text):
    """Rows of empty cells only: a clear error naming the file, not an IndexError."""
    msg = err(tmp_path, text)
    assert "has no header and no events" in msg and "event_id,date,time,timezone" in msg


def test_header_only(tmp_path):
    assert "no events" in err(tmp_path, HEADER + "\n")


def test_missing_columns_lists_missing_and_found(tmp_path):
    msg = err(tmp_path, "event_id,date,label\na,2026-01-06,x\n")
    assert "line 1" in msg
    assert "time, timezone, category, source" in msg
    assert "columns found: event_id, date, label" in msg


def test_unparseable_date(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-01-06,,,l,c,s,\nb,06/01/2026,,,l,c,s,\n")
    assert "line 3" in msg and "column date" in msg and "'06/01/2026'" in msg and "YYYY-MM-DD" in msg


def test_impossible_date(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-02-30,,,l,c,s,\n")
    assert "line 2" in msg and "'2026-02-30'" in msg


def test_empty_date(tmp_path):
    msg = err(tmp_path, HEADER + "\na,,,,l,c,s,\n")
    assert "line 2" in msg and "date is empty" in msg


@pytest.mark.parametrize("bad", ["25:00", "16:60", "4pm", "16:25:30", "1625"])
def test_unparseable_time(tmp_path, bad):
    msg = err(tmp_path, HEADER + f"\na,2026-01-06,{bad},Asia/Tokyo,l,c,s,\n")
    assert "line 2" in msg and "column time" in msg and repr(bad) in msg and "HH:MM" in msg


def test_unknown_timezone_with_hints(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-01-06,16:25,Mars/Olympus,l,c,s,\nb,2026-01-06,16:25,JST,l,c,s,\n"
                                 "c,2026-01-06,16:25,asia/tokyo,l,c,s,\n")
    assert "3 problems" in msg
    assert "line 2, column timezone = 'Mars/Olympus'" in msg and "IANA" in msg
    assert "line 3, column timezone = 'JST'" in msg and "Asia/Tokyo" in msg
    assert "line 4, column timezone = 'asia/tokyo'" in msg and "case-sensitive" in msg


def test_time_without_timezone(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-01-06,16:25,,l,c,s,\n")
    assert "line 2" in msg and "column timezone" in msg and "timezone is empty" in msg


def test_duplicate_event_id_names_both_lines(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-01-06,,,l,c,s,\nb,2026-01-07,,,l,c,s,\na,2026-01-08,,,l,c,s,\n")
    assert "line 4" in msg and "line 2" in msg and "duplicate event_id" in msg and "'a'" in msg


def test_empty_event_id(tmp_path):
    msg = err(tmp_path, HEADER + "\n,2026-01-06,,,l,c,s,\n")
    assert "line 2" in msg and "event_id is empty" in msg


def test_line_numbers_count_blank_lines_and_multiline_quotes(tmp_path):
    # line 2: event a whose notes span lines 2-3; line 4 blank; line 5: bad date
    text = HEADER + '\na,2026-01-06,,,l,c,s,"two\nlines"\n\nb,2026-99-01,,,l,c,s,\n'
    msg = err(tmp_path, text)
    assert "line 5" in msg


def test_wrong_field_count(tmp_path):
    msg = err(tmp_path, HEADER + "\na,2026-01-06,,,label, with comma,c,s,\n")
    assert "line 2" in msg and "9 fields" in msg and "quote" in msg
    msg = err(tmp_path, HEADER + "\na,2026-01-06,,,l,c\n", name="short.csv")
    assert "line 2" in msg and "6 fields" in msg


def test_nonexistent_and_ambiguous_local_times(tmp_path):
    # 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 -> 03:00);
    # 2025-11-02 01:30 happens twice (clocks fall back 02:00 -> 01:00).
    msg = err(tmp_path, HEADER + "\na,2026-03-08,02:30,America/New_York,l,c,s,\n"
                                 "b,2025-11-02,01:30,America/New_York,l,c,s,\n")
    assert "line 2" in msg and "does not exist" in msg
    assert "line 3" in msg and "ambiguous" in msg


def test_not_utf8(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes((HEADER + "\na,2026-01-06,,,caf\xe9,c,s,\n").encode("latin-1"))
    with pytest.raises(EventsFileError, match="UTF-8") as exc:
        load_events(p)
    assert "line 2" in str(exc.value)


def test_duplicate_and_unnamed_header_columns(tmp_path):
    assert "more than once" in err(tmp_path, "event_id,date,date,time,timezone,label,category,source\n")
    assert "no name" in err(tmp_path, HEADER + ",\n", name="trailing.csv")


def test_many_problems_are_all_reported_but_capped(tmp_path):
    rows = "\n".join(f"e{i},bad,,,l,c,s," for i in range(30))
    msg = err(tmp_path, HEADER + "\n" + rows + "\n")
    assert "30 problems" in msg and "and 10 more" in msg


# ------------------------------------------------------------------------------------ frames
def frame(**over):
    base = {
        "event_id": ["mofcom", "kyodo"],
        "date": ["2026-01-06", "2026-01-10"],
        "time": ["16:25", None],
        "timezone": ["Asia/Shanghai", float("nan")],
        "label": ["MOFCOM", "Kyodo"],
        "category": ["EXC", "REE"],
        "source": ["s", "s"],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_frame_matches_file(tmp_path):
    p = write(tmp_path, HEADER + "\nmofcom,2026-01-06,16:25,Asia/Shanghai,MOFCOM,EXC,s,\n"
                                 "kyodo,2026-01-10,,,Kyodo,REE,s,\n")
    pd.testing.assert_frame_equal(events_from_frame(frame()), load_events(p))
    pd.testing.assert_frame_equal(parse_events_text(p.read_text(), origin=str(p)), load_events(p))


def test_frame_accepts_python_objects():
    f = frame(date=[pd.Timestamp("2026-01-06"), dt.date(2026, 1, 10)], time=[dt.time(16, 25), pd.NaT])
    ev = events_from_frame(f)
    assert ev["announced_at"][0] == pd.Timestamp("2026-01-06 08:25", tz="UTC")
    assert ev["date"].tolist() == [pd.Timestamp("2026-01-06"), pd.Timestamp("2026-01-10")]


def test_frame_errors_name_origin_and_row():
    f = frame(date=["2026-01-06", "soon"])
    f.index = ["r1", "r2"]
    with pytest.raises(EventsFileError) as exc:
        events_from_frame(f, origin="my_events")
    msg = str(exc.value)
    assert "my_events" in msg and "row 'r2'" in msg and "'soon'" in msg
    with pytest.raises(EventsFileError, match="missing required column"):
        events_from_frame(f.drop(columns=["source"]))
    with pytest.raises(EventsFileError, match="DataFrame"):
        events_from_frame([1, 2])  # type: ignore[arg-type]
    with pytest.raises(EventsFileError) as exc:
        events_from_frame(frame(date=[pd.Timestamp("2026-01-06 16:25"), "2026-01-10"]))
    assert "column date" in str(exc.value) and "16:25" in str(exc.value)


def test_shared_study_events_file_if_present():
    """The bundled study's events file (if another module ships one) must load cleanly."""
    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "eventstudy" / "study").glob("*/*events*.csv"))
    if not files:
        pytest.skip("no study events file in eventstudy/study yet")
    for f in files:
        ev = load_events(f)
        assert ev["event_id"].is_unique
