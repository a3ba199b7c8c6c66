"""The fast paths of the command line (issue 15), each against the slower reference it replaces:
pyarrow CSV / Parquet tables, the columnar price reader, batched event-dummy regressions,
robust OLS without statsmodels, linear overlap notes, top-N summaries of many events."""
from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from eventstudy.outputs import csvs as outputs
from eventstudy.data.files import read_csv_columnar, read_csv_lines, read_price_file
from eventstudy.data.validate import validate_price_frame
from eventstudy.errors import PriceDataError
from eventstudy.inference.cross_section import ols_robust
from eventstudy.inference.dummy_regression import rows_from as _rows_from
from eventstudy.inference.regression import REG_COLUMNS, dummy_regression, event_dummy_regressions
from present_api import tables as T


# ----------------------------------------------------------------------------- tables written
def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.02, 50) * 10.0 ** rng.integers(-8, 3, 50)
    x[3] = np.nan
    return pd.DataFrame({
        "event_id": [f"E{i % 3}" for i in range(50)],
        "ticker": ["A,B" if i == 7 else ('say "hi"' if i == 8 else f"T{i}") for i in range(50)],
        "date": pd.date_range("2025-01-01", periods=50, freq="D"),
        "rel_day": np.arange(50) - 10,
        "value": x,
        "text_or_none": [None if i % 5 == 0 else f"r{i}" for i in range(50)],
    })


def test_streamed_csv_file_has_the_bytes_of_csv_bytes(tmp_path):
    """The table writer streams into its temporary file: the file holds exactly csv_bytes' bytes (and an empty
    frame its header), with the user's normal permissions and no temporary file left."""
    import stat

    from eventstudy.io_utils import default_file_mode

    df = _frame()
    for frame, name in ((df, "t.csv"), (df.iloc[:0], "empty.csv")):
        path = outputs.write_csv(frame, tmp_path / name)
        assert path.read_bytes() == outputs.csv_bytes(frame)
        assert stat.S_IMODE(path.stat().st_mode) == default_file_mode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "t.csv"]


def test_large_table_text_made_in_slices_on_threads_is_the_same_bytes(monkeypatch):
    """A table longer than SLICE_ROWS is made into CSV text slice by slice on threads and written in order: the
    bytes equal one call of the writer, for every number of threads and a last slice of any length, with at
    most two slices per thread made ahead of the file."""
    import pyarrow.csv as pacsv

    df = _frame()
    whole = outputs.csv_bytes(df)                               # 50 rows: one call of pyarrow's writer
    assert len(df) <= outputs.SLICE_ROWS
    made, written, ahead = [0], [0], []
    real = outputs._slice_text

    def counted(table):
        made[0] += 1
        return real(table)

    class File(io.BytesIO):
        def write(self, b):
            if written[0] or made[0]:
                ahead.append(made[0] - written[0])
                written[0] += 1
            return super().write(b)

    monkeypatch.setattr(outputs, "_slice_text", counted)
    for rows in (7, 10, 49):
        monkeypatch.setattr(outputs, "SLICE_ROWS", rows)
        assert outputs.csv_bytes(df) == whole
        for workers in (1, 2, 3):
            made[0], written[0], ahead[:] = 0, 0, []
            fh = File()
            outputs._write_rows_in_slices(outputs._arrow_table(df), fh, workers=workers)
            head = whole[: whole.index(b"\n") + 1]
            assert head + fh.getvalue() == whole
            assert made[0] == -(-len(df) // rows) and max(ahead) <= 2 * workers
    body = io.BytesIO()
    pacsv.write_csv(outputs._arrow_table(df), body, pacsv.WriteOptions(include_header=False))
    assert whole.endswith(body.getvalue())


def test_csv_values_round_trip_at_full_precision():
    df = _frame()
    text = outputs.csv_bytes(df).decode("utf-8")
    assert text.splitlines()[0] == "event_id,ticker,date,rel_day,value,text_or_none"   # header as pandas writes it
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(df.columns)
    np.testing.assert_array_equal(back["value"].to_numpy(), df["value"].to_numpy())     # every double exactly
    assert back["ticker"].tolist() == df["ticker"].tolist()                              # quotes and commas
    assert back["date"].tolist() == df["date"].dt.strftime("%Y-%m-%d").tolist()
    assert back["rel_day"].tolist() == df["rel_day"].tolist()
    assert back["text_or_none"].isna().tolist() == df["text_or_none"].isna().tolist()
    # the CSV the pandas writer gave before (10 significant digits) holds the same values, rounded
    old = pd.read_csv(io.StringIO(df.to_csv(index=False, float_format="%.10g", lineterminator="\n")))
    np.testing.assert_allclose(old["value"].to_numpy(), back["value"].to_numpy(), rtol=5e-10, atol=0)


def test_parquet_same_columns_and_values_and_event_row_groups():
    import pyarrow.parquet as pq

    df = _frame().sort_values("event_id", kind="stable").reset_index(drop=True)
    data = outputs.parquet_bytes(df, group_by="event_id", rows_per_group=10)
    f = pq.ParquetFile(io.BytesIO(data))
    back = f.read().to_pandas()
    assert list(back.columns) == list(df.columns)
    np.testing.assert_array_equal(back["value"].to_numpy(), df["value"].to_numpy())
    assert pd.to_datetime(back["date"]).tolist() == df["date"].tolist()
    # row groups end where the event changes: no event is split across a group boundary after the cut
    starts = np.cumsum([0] + [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)])[:-1]
    ev = df["event_id"].to_numpy()
    assert all(s == 0 or ev[s] != ev[s - 1] for s in starts)


def test_write_tables_parquet_and_csv_hold_the_same_tables(offline_run, tmp_path):
    a = outputs.write_tables(offline_run, tmp_path / "csv")
    b = outputs.write_tables(offline_run, tmp_path / "pq", table_format="parquet")
    assert sorted(n.replace(".csv", "") for n in a) == sorted(n.replace(".parquet", "") for n in b)
    for name in a:
        c = pd.read_csv(a[name], keep_default_na=False, na_values=[""])
        p = pd.read_parquet(b[name.replace(".csv", ".parquet")])
        assert list(c.columns) == list(p.columns), name
        assert len(c) == len(p), name
        for col in c.columns:
            if pd.api.types.is_float_dtype(p[col]):
                np.testing.assert_array_equal(c[col].to_numpy(float), p[col].to_numpy(float), err_msg=name)
    car = pd.read_csv(a["car.csv"])
    np.testing.assert_array_equal(car["car"].to_numpy(), offline_run.result.car["car"].to_numpy())
    with pytest.raises(ValueError, match="table_format"):
        outputs.write_tables(offline_run, tmp_path / "x", table_format="xlsx")


# ----------------------------------------------------------------------------- price file
def _long_csv(path, body: str):
    path.write_text("date,ticker,close,volume\n" + body, encoding="utf-8")
    return path


def test_columnar_reader_equals_text_reader(tmp_path):
    rng = np.random.default_rng(2)
    rows = [f"2025-01-{d:02d},{t},{rng.uniform(50, 150):.4f},{rng.integers(1, 1000)}"
            for t in ("B.T", "A.T", " C ") for d in range(1, 29)]
    rows[5] = rows[5].split(",")[0] + ",B.T,,12"                 # a missing price
    rows[9] = rows[9].split(",")[0] + ",B.T,NaN,12"              # missing in another spelling
    rows += [f"2025-01-{d},C,100.5,3" for d in (29, 30, 31)]     # ' C ' and 'C': one ticker
    p = _long_csv(tmp_path / "p.csv", "\n".join(rows) + "\n")
    fast = read_csv_columnar(p)
    assert fast is not None
    assert isinstance(fast[0]["ticker"].dtype, pd.CategoricalDtype)  # names read once, not once per row
    slow = read_csv_lines(p)
    from eventstudy.data.validate import validate_price_frame

    a, fa = validate_price_frame(fast[0], "x", line_numbers=fast[1])
    b, fb = validate_price_frame(slow[0], "x", line_numbers=slow[1])
    pd.testing.assert_frame_equal(a, b)
    assert fa == fb
    assert sorted(a["ticker"].unique()) == ["A.T", "B.T", "C"] and (a["ticker"] == "C").sum() == 31


@pytest.mark.parametrize("body", [
    "2025-01-02,A,1.0,1\n\n2025-01-03,A,1.5,2\n",            # a blank line inside
    "2025-01-02,A,1.0,1\r\n\r\n2025-01-03,A,1.5,2\r\n",      # the same with Windows line ends
    "2025-01-02,A,1.0,1\n2025-01-03,A,1.5,2\n\n\n",          # blank lines at the end
])
def test_blank_lines_go_to_the_text_reader(tmp_path, body):
    """The columnar reader keeps a blank line as a row of missing cells (never skips it, which would shift
    every later line number) and so leaves the file to the text reader; the frame is the text reader's."""
    p = _long_csv(tmp_path / "p.csv", body)
    assert read_csv_columnar(p) is None
    frame, _ = read_price_file(p)
    ref, _ = validate_price_frame(*read_csv_lines(p)[:1], "x", line_numbers=read_csv_lines(p)[1])
    pd.testing.assert_frame_equal(frame, ref)
    assert frame["price"].tolist() == [1.0, 1.5]


@pytest.mark.parametrize("body, why", [
    ("2025-01-02,A,1.0,1\n\n2025-01-03,A,x,2\n", "blank line"),
    ("2025-01-02,A,1.0,1\n2025-01-03,A,1.5 %,2\n", "not a number"),
    ("2025-01-02,A,1.0,1\n02/01/2025,A,1.5,2\n", "date format"),
    ("2025-01-02,A,1.0,1\n2025-01-03,A,-1,2\n", "non-positive"),
    ("2025-01-02,A,1.0,1\n,,,\n2025-01-03,A,1.2,2\n", "line of commas"),
])
def test_columnar_reader_keeps_every_message(tmp_path, body, why):
    """Whatever the columnar reader does not take, the text reader reads: the messages (with the
    line numbers) are those of the text reader."""
    import eventstudy.data.files as files

    p = _long_csv(tmp_path / "p.csv", body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_price_file(p)
            fast_msg = None
        except PriceDataError as exc:
            fast_msg = str(exc)
        orig = files.read_csv_columnar
        files.read_csv_columnar = lambda path: None
        try:
            read_price_file(p)
            slow_msg = None
        except PriceDataError as exc:
            slow_msg = str(exc)
        finally:
            files.read_csv_columnar = orig
    assert fast_msg == slow_msg, why


# ----------------------------------------------------------------------------- regressions
def _ghk_reference_rows(y, f, est_mask, wm, rel, kind, e, s, w, dr) -> list[dict]:
    """The GHK row of one series (the CAR only), computed apart: statsmodels OLS on the estimation days, the
    window days' prediction errors summed, ranked with :func:`sample_quantile_test` among the sums of L
    consecutive residuals (a plain loop over every start)."""
    from eventstudy.inference.quantile import sample_quantile_test

    f = f.reshape(len(y), -1)
    est = est_mask & np.isfinite(y) & np.isfinite(f).all(axis=1)
    X = sm.add_constant(f[est].reshape(int(est.sum()), -1), has_constant="add")
    fit = sm.OLS(y[est], X).fit()
    resid = np.asarray(fit.resid)
    wd = np.flatnonzero(wm)
    Xw = sm.add_constant(f[wd].reshape(len(wd), -1), has_constant="add")
    ar = y[wd] - Xw @ np.asarray(fit.params)
    np.testing.assert_allclose(ar, dr.ar, rtol=1e-9, atol=1e-13)        # the dummies are these prediction errors
    L, n = len(wd), len(resid)
    sums = [resid[j:j + L].sum() for j in range(n - L + 1)]
    base = dict(kind=kind, event_id=e, subject=s, window_start=w[0], window_end=w[1], std_err=np.nan, t=np.nan,
                cov_type=f"GHK({n - L + 1})", nobs=n + L, r2=np.nan)
    return [dict(base, term="CAR", coef=ar.sum(), p_value=sample_quantile_test(ar.sum(), np.array(sums))["p_two"])]


def _reference_dummy_rows(res, by="group", cov_types=("OLS", "HAC", "GHK")) -> pd.DataFrame:
    """The per-series loop over :func:`dummy_regression` (statsmodels) that the batched code replaces."""
    from eventstudy.errors import EstimationError

    a = res.arrays
    pairs = a.pairs
    key = pairs["group"].to_numpy() if by == "group" else pairs["ticker"].to_numpy()
    ev = pairs["event_id"].to_numpy()
    rel = a.rel_days
    rows = []
    kind = "dummy_portfolio" if by == "group" else "dummy_security"
    for e in dict.fromkeys(ev):
        idx = np.flatnonzero(a.ok & (ev == e))
        y_e, f_e = a.returns(idx)
        for s in dict.fromkeys(key[idx]):
            sel = key[idx] == s
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yv, fv = np.nanmean(y_e[sel], axis=0), np.nanmean(f_e[sel], axis=0)
            for w in res.windows:
                wm = (rel >= w[0]) & (rel <= w[1])
                for ct in cov_types:
                    try:
                        dr = dummy_regression(yv, fv, a.est_mask, wm, rel, cov_type="OLS" if ct == "GHK" else ct)
                    except EstimationError as exc:
                        rows.append(dict(kind=kind, event_id=e, subject=s, window_start=w[0], window_end=w[1],
                                         term="CAR", coef=np.nan, std_err=np.nan, t=np.nan, p_value=np.nan,
                                         cov_type=ct, nobs=0, r2=np.nan, note=str(exc)))
                        continue
                    if ct == "GHK":
                        rows.extend(_ghk_reference_rows(yv, fv, a.est_mask, wm, rel, kind, e, s, w, dr))
                    else:
                        rows.extend(_rows_from(dr, kind, e, s, w))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("by", ["group", "ticker"])
def test_batched_dummy_regressions_equal_the_statsmodels_loop(by):
    from eventstudy.engine.model import EventStudy

    rng = np.random.default_rng(4)
    idx = pd.bdate_range("2020-01-01", periods=420)
    m = rng.normal(0, 0.01, 420)
    df = pd.DataFrame({f"S{i}": 0.0002 + (0.8 + 0.1 * i) * m + rng.normal(0, 0.02, 420) for i in range(6)}, index=idx)
    df["F0"] = m
    df.iloc[100:130, 0] = np.nan          # gaps in the estimation window of S0
    df.iloc[70:90, 3] = np.nan
    df.iloc[331, 5] = np.nan              # a missing window day of S5 for the second event
    pairs = pd.DataFrame([(f"S{i}", e, idx[d], "a" if i < 3 else "b")
                          for e, d in (("E0", 300), ("E1", 330)) for i in range(6)],
                         columns=["ticker", "event_id", "day0", "group"])
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0), (-1, 2), (0, 5)]).fit()
    new = event_dummy_regressions(res, by=by)
    ref = _reference_dummy_rows(res, by=by)
    assert len(new) == len(ref)
    for c in REG_COLUMNS:
        if pd.api.types.is_float_dtype(ref[c]):
            np.testing.assert_allclose(new[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-9, atol=1e-13,
                                       err_msg=c)
        else:
            assert new[c].astype(str).tolist() == ref[c].astype(str).tolist(), c
    if "note" in ref.columns:
        assert new["note"].fillna("").tolist() == ref["note"].fillna("").tolist()


@pytest.mark.parametrize("cov", ["HC0", "HC1", "HC2", "HC3"])
def test_ols_robust_equals_statsmodels(cov):
    rng = np.random.default_rng(6)
    X = np.column_stack([np.ones(30), rng.normal(size=30), (rng.uniform(size=30) > 0.5).astype(float)])
    y = X @ [0.1, 0.5, -0.3] + rng.normal(0, 1, 30) * (1 + np.abs(X[:, 1]))
    ref = sm.OLS(y, X).fit(cov_type=cov)
    got = ols_robust(y, X, cov)
    for a, b in ((got.params, ref.params), (got.bse, ref.bse), (got.tvalues, ref.tvalues),
                 (got.pvalues, ref.pvalues)):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert got.rsquared == pytest.approx(ref.rsquared, rel=1e-12)
    assert got.nobs == ref.nobs


# ----------------------------------------------------------------------------- many events
def _brute_notes(cells, day0):
    out = []
    for e, g, d, lo, hi in zip(cells["event_id"], cells["group"], cells["day0"], cells["date_first"],
                               cells["date_last"]):
        others = [(o, od) for o, gg, od in zip(day0["event_id"], day0["group"], day0["day0"]) if gg == g]
        same = [o for o, od in others if o != e and od == d]
        inside = [o for o, od in others if o != e and lo <= od <= hi and od != d]
        parts = []
        if same:
            parts.append(f"same day 0 ({pd.Timestamp(d):%Y-%m-%d}) as {T._names_text(same)}: "
                         f"one window, not separate evidence")
        if inside:
            parts.append(f"window contains day 0 of {T._names_text(inside)}")
        out.append("; ".join(parts))
    return out


def test_overlap_notes_equal_the_brute_force_and_stay_short():
    rng = np.random.default_rng(8)
    days = pd.bdate_range("2024-01-01", periods=60)
    n = 300
    d0 = pd.DataFrame({"event_id": [f"E{i:03d}" for i in range(n)] * 2,
                       "group": ["a"] * n + ["b"] * n,
                       "day0": list(days[rng.integers(0, 60, n)]) * 2})
    pos = {d: i for i, d in enumerate(days)}
    cells = d0.copy()
    cells["date_first"] = [days[max(0, pos[d] - 1)] for d in cells["day0"]]
    cells["date_last"] = [days[min(59, pos[d] + 2)] for d in cells["day0"]]
    got = T._overlap_notes(cells, d0, None)
    assert got == _brute_notes(cells, d0)
    assert max(len(x) for x in got) < 400                     # five names and a count, not 300
    assert any(re.search(r"and \d+ more", x) for x in got)


def test_top_events_and_shown_rows():
    imp = pd.DataFrame({"event_id": ["E1", "E1", "E2", "E2", "E3", "E3"], "group_id": ["all", "x"] * 3,
                        "window_start": 0, "window_end": 1, "caar_pct": [0.1, 9.0, -3.0, 0.0, 2.0, 0.0]})
    assert T.top_events(imp, 2, (0, 1), "all") == ["E2", "E3"]        # pooled |CAAR|, in table order
    assert T.top_events(imp, 1, (0, 1), None) == ["E1"]               # no pooled group: any group
    imp.attrs["notes"] = ["n1"]
    s = T.shown_rows(imp, ["E2"], 3)
    assert s["event_id"].unique().tolist() == ["E2"]
    assert s.attrs["notes"][0] == "n1" and "Showing 1 of 3 events" in s.attrs["notes"][1]


def _reference_spreads(res, base_group, windows, scale=100.0) -> pd.DataFrame:
    """One :func:`dummy_regression` (statsmodels) per event, group spread and window: what the batched
    :func:`group_difference_regressions` replaces."""
    from eventstudy.errors import EstimationError

    a = res.arrays
    gr, ev = a.pairs["group"].to_numpy(), a.pairs["event_id"].to_numpy()
    rel, q = a.rel_days, len(res.regressors)
    rows = []
    for e in dict.fromkeys(ev):
        idx = np.flatnonzero(a.ok & (ev == e))
        g_e = gr[idx]
        if not len(idx) or not (g_e == base_group).any():
            continue
        y_e, f_e = a.returns(idx)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yb, fb = np.nanmean(y_e[g_e == base_group], axis=0), np.nanmean(f_e[g_e == base_group], axis=0)
            series = [(f"const ({base_group})", yb, fb)]
            for g in dict.fromkeys(g_e):
                if g == base_group:
                    continue
                yg, fg = np.nanmean(y_e[g_e == g], axis=0), np.nanmean(f_e[g_e == g], axis=0)
                f = fg if np.allclose(fg, fb, equal_nan=True) else np.column_stack([fg, fb])
                series.append((f"group[{g}]", yg - yb, f))
        for term, y, f in series:
            for w in windows:
                wm = (rel >= w[0]) & (rel <= w[1])
                try:
                    dr = dummy_regression(y, f, a.est_mask, wm, rel, cov_type="OLS")
                    rows.append((e, term, w[0], w[1], dr.car * scale, dr.car_se * scale, dr.car_t, dr.car_p,
                                 dr.nobs, dr.r2))
                except EstimationError:
                    rows.append((e, term, w[0], w[1], np.nan, np.nan, np.nan, np.nan, 0, np.nan))
    return pd.DataFrame(rows, columns=["event_id", "term", "window_start", "window_end", "coef", "std_err", "t",
                                       "p_value", "nobs", "r2"])


def test_batched_spread_regressions_equal_the_statsmodels_loop():
    from eventstudy.engine.model import EventStudy
    from eventstudy.inference.regression import group_difference_regressions

    rng = np.random.default_rng(14)
    idx = pd.bdate_range("2020-01-01", periods=420)
    m, m2 = rng.normal(0, 0.01, 420), rng.normal(0, 0.01, 420)
    df = pd.DataFrame({f"S{i}": (0.7 + 0.1 * i) * m + rng.normal(0, 0.02, 420) for i in range(9)}, index=idx)
    df["F0"], df["F1"] = m, m2
    df.iloc[60:80, 4] = np.nan
    df.iloc[302, 7] = np.nan              # a missing window day of one member of group c, event E0
    groups = ["control"] * 3 + ["b"] * 3 + ["c"] * 3
    pairs = pd.DataFrame([(f"S{i}", e, idx[d], groups[i]) for e, d in (("E0", 300), ("E1", 340)) for i in range(9)],
                         columns=["ticker", "event_id", "day0", "group"])
    bench = {f"S{i}": ("F1" if i >= 6 else "F0") for i in range(9)}       # group c on another benchmark
    res = EventStudy(df, pairs, model="market", benchmark=bench, windows=[(0, 0), (-1, 2), (0, 5)]).fit()
    got = group_difference_regressions(res, "control")
    ref = _reference_spreads(res, "control", res.windows)
    assert len(got) == len(ref)
    assert got["event_id"].tolist() == ref["event_id"].tolist() and got["term"].tolist() == ref["term"].tolist()
    for c in ("coef", "std_err", "t", "p_value", "nobs", "r2"):
        np.testing.assert_allclose(got[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-9, atol=1e-13, err_msg=c)


# ----------------------------------------------------------------------------- figures and report
def test_figures_png_only_by_default_palette_and_capped_events(offline_run, tmp_path):
    from PIL import Image

    from present_api import plots

    out = plots.save_plots(offline_run, tmp_path / "f", bar_events=1, dpi=40, max_events=3, workers=1)
    assert sorted(p.suffix for p in (tmp_path / "f").iterdir()) == [".png"] * len(out)   # no SVG unless asked
    img = Image.open(out["heatmap"])
    assert img.mode == "P"                                                           # 8-bit palette PNG
    fig = plots.plot_caar_paths(offline_run, events=plots.main_events(offline_run, k=3))
    assert len([a for a in fig.axes if a.get_visible() and a.has_data()]) == 3
    with pytest.raises(ValueError, match="figure format"):
        plots.save_plots(offline_run, tmp_path / "g", formats=("jpg",))


def test_report_html_is_one_small_file(offline_run, tmp_path):
    from eventstudy.outputs.report_files import write_report

    w = write_report(offline_run, tmp_path, formats=("html",))
    size = w["report.html"].stat().st_size
    assert size < 2_000_000, size
    text = w["report.html"].read_text(encoding="utf-8")
    assert "src=\"http" not in text and "regressions.csv" in text        # self-contained; full table named
