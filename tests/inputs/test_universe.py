"""The China–Japan universe file and its loader."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from eventstudy.errors import UniverseFileError
from eventstudy.inputs.study import bundled_study, default_universe_path
from eventstudy.inputs.universe import is_equity, load_excluded, load_universe

GROUPS = bundled_study().labels.order
GROUP_LABELS = dict(bundled_study().labels.long)

SHARED = Path(__file__).resolve().parents[3] / "shared"
MARKET = SHARED / "data" / "market"
KEROPPA = MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
# Names that the keroppa J-Quants file lacks but another shared file shows trading through
# the whole study period (see PROVENANCE.md); everything else must be in keroppa.
ALTERNATIVE_FILE = {
    "4082.T": MARKET / "singularity_ai_4082T_adjohlcv.csv",
    "1301.T": MARKET / "ryofu1029_jp-stock-analysis_tse593_adjohlcv.csv",
    "7721.T": MARKET / "libelolen57_j-titan_adjohlcv.csv",
}
STUDY_START, STUDY_END = "2025-06-02", "2026-01-30"

HEADER = "ticker,name,group,benchmark,exchange,rationale\n"


def _write(tmp_path: Path, text: str, name: str = "u.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ packaged universe
def test_packaged_universe_loads_with_expected_groups():
    u = load_universe()
    assert list(u.columns[:6]) == ["ticker", "name", "group", "benchmark", "exchange", "rationale"]
    assert set(u["group"]) == set(GROUPS)
    assert list(GROUP_LABELS) == list(GROUPS)
    assert u["ticker"].is_unique
    counts = u["group"].value_counts()
    assert counts["futures"] == 2 and counts["index"] == 1
    for g in GROUPS[2:]:
        # seafood: only the fishery / seafood-processing names (the China-consumer food brands were left out)
        assert (4 if g == "seafood_food" else 7) <= counts[g] <= 12, (g, counts[g])
    assert set(u.loc[u["group"] == "futures", "ticker"]) == {"NKD=F", "NIY=F"}
    assert u.loc[u["group"] == "index", "ticker"].tolist() == ["^N225"]
    # every row has a name and a rationale
    assert (u["name"] != "").all() and (u["rationale"] != "").all()


def test_packaged_universe_benchmarks_and_exchanges():
    u = load_universe()
    eq = u["ticker"].map(is_equity)
    assert (u.loc[eq, "benchmark"] == "1306.T").all()
    assert (u.loc[~eq, "benchmark"] == "^GSPC").all()
    assert (u.loc[u["ticker"].str.endswith(".T"), "exchange"] == "XTKS").all()
    assert (u.loc[u["ticker"] == "^N225", "exchange"] == "XTKS").all()
    assert (u.loc[u["ticker"].str.endswith("=F"), "exchange"] == "CME").all()
    assert (u["exchange"] != "").all()
    # the CME-day choice of benchmark is documented in the futures rationale
    assert u.loc[u["group"] == "futures", "rationale"].str.contains("CME bar dated D").any()


def test_delisted_names_are_excluded_and_explained():
    u = load_universe()
    ex = load_excluded()
    for t in ("5486.T", "3141.T", "4921.T", "4185.T"):
        assert t not in set(u["ticker"])
        reason = ex.loc[ex["ticker"] == t, "reason"]
        assert len(reason) == 1 and "elisted" in reason.iloc[0]
    assert not set(ex["ticker"]) & set(u["ticker"])
    assert "4063.T" in set(u.loc[u["group"] == "rare_earth_magnets", "ticker"])


def test_default_path_is_package_data():
    p = default_universe_path()
    assert p.name == "universe.csv" and p.is_file()
    assert p.parent.parent.name == "study"


def test_universe_readable_by_plain_pandas():
    df = pd.read_csv(default_universe_path())
    assert len(df) == len(load_universe())


# ------------------------------------------------------------------ coverage against real data
@pytest.fixture(scope="module")
def keroppa_dates():
    if not KEROPPA.is_file():
        pytest.skip("shared market data (../shared) not available")
    df = pd.read_csv(KEROPPA, usecols=["date", "ticker"], dtype={"ticker": str})
    df["date"] = pd.to_datetime(df["date"])
    return df


def _xtks_sessions() -> pd.DatetimeIndex:
    import exchange_calendars as xcals

    return xcals.get_calendar("XTKS").sessions_in_range(STUDY_START, STUDY_END)


def test_every_equity_trades_through_the_study_period(keroppa_dates):
    sessions = _xtks_sessions()
    assert len(sessions) > 160
    u = load_universe()
    by_ticker = {t: pd.DatetimeIndex(g["date"]) for t, g in keroppa_dates.groupby("ticker")}
    problems = []
    for t in u.loc[u["ticker"].map(is_equity), "ticker"]:
        if t in by_ticker:
            dates = by_ticker[t]
        else:
            alt = ALTERNATIVE_FILE.get(t)
            if alt is None:
                problems.append(f"{t}: not in keroppa and no alternative file")
                continue
            other = pd.read_csv(alt, usecols=["date", "ticker"])
            dates = pd.DatetimeIndex(pd.to_datetime(other.loc[other["ticker"] == t, "date"]))
        missing = sessions.difference(dates)
        if len(missing):
            problems.append(f"{t}: {len(missing)} missing sessions, first {missing[0].date()}")
    assert not problems, problems


def test_alternative_files_are_really_needed(keroppa_dates):
    """The exceptions list stays honest: those names are indeed absent from keroppa."""
    present = set(keroppa_dates["ticker"])
    for t in ALTERNATIVE_FILE:
        assert t not in present


def test_benchmark_1306_in_keroppa(keroppa_dates):
    d = pd.DatetimeIndex(keroppa_dates.loc[keroppa_dates["ticker"] == "1306.T", "date"])
    assert _xtks_sessions().difference(d).empty


# ------------------------------------------------------------------ validation errors
def test_missing_file(tmp_path):
    with pytest.raises(UniverseFileError, match="does not exist"):
        load_universe(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    with pytest.raises(UniverseFileError, match="empty"):
        load_universe(_write(tmp_path, ""))


def test_header_only(tmp_path):
    with pytest.raises(UniverseFileError, match="no securities"):
        load_universe(_write(tmp_path, HEADER))


def test_missing_required_column(tmp_path):
    p = _write(tmp_path, "ticker,name,group\n7203.T,Toyota,autos\n")
    with pytest.raises(UniverseFileError, match=r"line 1: missing required column\(s\) benchmark"):
        load_universe(p)


def test_duplicate_ticker_names_both_lines(tmp_path):
    p = _write(
        tmp_path,
        HEADER
        + "7203.T,Toyota,autos,1306.T,XTKS,x\n"
        + "\n"  # blank line: still counted as line 3
        + "6902.T,Denso,autos,1306.T,XTKS,x\n"
        + "7203.T,Toyota again,other,1306.T,XTKS,x\n",
    )
    with pytest.raises(UniverseFileError) as ei:
        load_universe(p)
    msg = str(ei.value)
    assert "lines 2 and 5" in msg and "7203.T appears twice" in msg and str(p) in msg


def test_unknown_group_when_restricted(tmp_path):
    p = _write(tmp_path, HEADER + "7203.T,Toyota,autos,1306.T,XTKS,x\n")
    assert load_universe(p)["group"].tolist() == ["autos"]  # a user file may use its own ids
    with pytest.raises(UniverseFileError, match=r"line 2: ticker 7203.T has unknown group 'autos'"):
        load_universe(p, allowed_groups=GROUPS)


def test_empty_group(tmp_path):
    p = _write(tmp_path, HEADER + "7203.T,Toyota,,1306.T,XTKS,x\n")
    with pytest.raises(UniverseFileError, match="line 2: ticker 7203.T has an empty group"):
        load_universe(p)


def test_equity_without_benchmark(tmp_path):
    p = _write(
        tmp_path,
        HEADER + "^N225,Nikkei,index,,XTKS,x\n" + "7203.T,Toyota,autos,,XTKS,x\n",
    )
    with pytest.raises(UniverseFileError) as ei:
        load_universe(p)
    msg = str(ei.value)
    assert "line 3: equity 7203.T has no benchmark" in msg
    assert "^N225" not in msg  # an index may go without a benchmark


def test_own_benchmark(tmp_path):
    p = _write(tmp_path, HEADER + "1306.T,TOPIX ETF,x,1306.T,XTKS,x\n")
    with pytest.raises(UniverseFileError, match="line 2: 1306.T is its own benchmark"):
        load_universe(p)


def test_wrong_cell_count_hints_at_quotes(tmp_path):
    p = _write(tmp_path, HEADER + "7203.T,Toyota,autos,1306.T,XTKS,motors, magnets\n")
    with pytest.raises(UniverseFileError, match=r"line 2: 7 cells but the header has 6 \(a comma inside"):
        load_universe(p)


def test_multiline_quoted_field_keeps_line_numbers(tmp_path):
    p = _write(
        tmp_path,
        HEADER + '7203.T,Toyota,autos,1306.T,XTKS,"two\nlines"\n' + "6902.T,Denso,autos,,XTKS,x\n",
    )
    with pytest.raises(UniverseFileError, match="line 4: equity 6902.T has no benchmark"):
        load_universe(p)


def test_empty_ticker(tmp_path):
    p = _write(tmp_path, HEADER + ",Toyota,autos,1306.T,XTKS,x\n7203 .T,Toyota,autos,1306.T,XTKS,x\n")
    with pytest.raises(UniverseFileError) as ei:
        load_universe(p)
    assert "line 2: empty ticker" in str(ei.value)
    assert "1 problem:" in str(ei.value)


def test_any_ticker_text_is_a_name(tmp_path):
    """Bloomberg-style names, slashes, lower case and digits-only codes are names like any other."""
    p = _write(tmp_path, HEADER + "7203 JP Equity,Toyota,autos,TPX Index,,x\nbrk/b,Berkshire,autos,SPX Index,,x\n"
               "72030,Toyota code,autos,topix,dates,x\n")
    u = load_universe(p)
    assert list(u["ticker"]) == ["7203 JP Equity", "brk/b", "72030"]
    assert list(u["benchmark"]) == ["TPX Index", "SPX Index", "topix"]


def test_unknown_exchange_named(tmp_path):
    p = _write(tmp_path, HEADER + "7203.T,Toyota,autos,1306.T,MOON,x\n")
    with pytest.raises(UniverseFileError, match=r"line 2: ticker '7203.T': unknown exchange 'MOON'"):
        load_universe(p)


def test_not_utf8(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes(HEADER.encode() + "7203.T,トヨタ,autos,1306.T,XTKS,x\n".encode("shift_jis"))
    with pytest.raises(UniverseFileError, match="line 2: the file is not UTF-8"):
        load_universe(p)


def test_minimal_user_file_and_bom_and_comments(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes(
        "\ufeffTicker,Group,Benchmark,sector\n# a comment line\n7203.T,autos,1306.T,Transport\nNIY=F,fut,,\n".encode()
    )
    u = load_universe(p)
    assert u.columns.tolist() == ["ticker", "name", "group", "benchmark", "exchange", "rationale", "sector"]
    assert u["ticker"].tolist() == ["7203.T", "NIY=F"]
    assert u["benchmark"].tolist() == ["1306.T", ""]
    assert u["name"].tolist() == ["", ""]
    assert list(u.attrs["line"]) == [3, 4]


def test_is_equity():
    assert is_equity("7203.T") and is_equity("AAPL")
    assert not is_equity("^N225") and not is_equity("NIY=F") and not is_equity("JPY=X")


# ------------------------------------------------------------------ groups on pre-event information only
FIRST_EVENT = "2025-11-07"


def test_rationales_cite_only_pre_event_evidence_outside_ex_post_groups():
    """No rationale of a group that can carry a primary hypothesis names a date on or after the first event
    (a move on an event day is not a reason to be in a group); ex-post groups say so."""
    import re

    EX_POST_GROUPS = bundled_study().defaults.ex_post_groups

    u = load_universe()
    for t, g, r in zip(u["ticker"], u["group"], u["rationale"]):
        if g in EX_POST_GROUPS:
            assert r.startswith("EX POST"), (t, r)
            continue
        dates = re.findall(r"20\d\d-\d\d-\d\d", r)
        assert all(d < FIRST_EVENT for d in dates), (t, r)
        assert not re.search(r"[+-]\d+(\.\d+)?% (close )?on ", r), (t, r)       # no event-day moves


def test_control_and_seafood_groups_are_clean():
    u = load_universe()
    control = set(u.loc[u["group"] == "control", "ticker"])
    assert "6178.T" not in control                           # Japan Post HD: a financial holding
    seafood = u[u["group"] == "seafood_food"]
    assert set(seafood["ticker"]).isdisjoint({"2267.T", "2801.T", "2809.T"})  # Yakult, Kikkoman, Kewpie
    assert seafood["rationale"].str.contains("[Ss]eafood|[Ff]ishery").all()
    from eventstudy.inputs.universe import load_excluded
    ex = load_excluded()
    assert {"2267.T", "2801.T", "2809.T", "6178.T"} <= set(ex["ticker"])


def test_line_numbers_ride_along_without_being_copied():
    """pandas deep-copies ``attrs`` on every operation: the universe's line numbers are one immutable object
    that every derived frame shares (equal to the file's lines), and survive pickling."""
    import copy
    import pickle

    u = load_universe()
    lines = u.attrs["line"]
    assert tuple(lines) == tuple(range(2, len(u) + 2))        # the packaged file: one row per line after the header
    derived = u[u["group"] != "control"].merge(u[["ticker"]], on="ticker")
    assert derived.attrs["line"] is lines and copy.deepcopy(lines) is lines
    assert tuple(pickle.loads(pickle.dumps(u)).attrs["line"]) == tuple(lines)
