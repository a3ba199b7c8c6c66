#!/usr/bin/env python
"""Generate the bundled SIMULATED market (not market data) with known injected abnormal returns.

    python scripts/make_offline_market.py            # rewrites eventstudy/data/offline/
    python scripts/make_offline_market.py --out DIR  # writes elsewhere (same bytes)

Output (byte-reproducible: fixed seed, sorted rows, fixed float formatting, gzip mtime 0):
- ``SIMULATED_market.csv.gz``: long ``date,ticker,close,adj_close`` (adj_close = close) for every
  ticker of the packaged universe plus 1306.T, ^N225, ^GSPC, ^TOPX and JPY=X, 2024-09-02..2026-03-31,
  each on its own calendar (XTKS, CMES, XNYS, weekdays).
- ``TRUE_EFFECTS.csv``: the injected abnormal returns (the "known answer").
- ``README.md``: what the data is and how it was made.

Model (all returns are log returns; "sd" = daily standard deviation):
Shocks are placed on one UTC time line and each instrument's return on a session is the sum of
the shocks that arrived between its previous close and its close. That puts news on the right
day per calendar by construction (e.g. a shock at 08:25 UTC on 2026-01-06, after the Tokyo
close, lands in the CME bar of 01-06 and in Tokyo's 01-07).
- global factor G: one Student-t(4) shock per XNYS session at the NYSE close, sd 1.0%, mean
  0.04%. ^GSPC = G.
- Japan market factor J: 0.5 x G (the previous US day reaches Tokyo at its next session), plus
  an evening shock (sd 0.35%, 3 h after each Tokyo close) and an intraday shock (sd 0.70%, 1 h
  before the close). ^TOPX = J; 1306.T = J plus 0.03% tracking noise in levels.
- Nikkei tilt N: intraday Student-t(5), sd 0.35%. ^N225 = J + N.
- CME Nikkei futures (NIY=F, NKD=F): J + N sampled at the CME close (16:00 America/Chicago on
  CMES session dates), plus a front-month basis that decays linearly to 0 at expiry and resets
  at each quarterly roll (second Friday of Mar/Jun/Sep/Dec): the roll-day return carries a jump
  of about ROLL_JUMP[ticker], plus 0.02% tracking noise in levels.
- equities (XTKS): r = beta x J-return + group factor + idiosyncratic Student-t(4). Group factor
  sd = idiosyncratic sd / sqrt(3), so residuals within a group correlate about 0.25.
- JPY=X (weekdays): 0.3 x G + Student-t(4) noise sd 0.5%.
- Injected effects (TRUE_EFFECTS.csv): on day 0 (+ rel_day) of an event, the gross return of every
  stock of the group is multiplied by (1 + abnormal_return); a market-level effect is a J shock
  at the announcement time (so it moves 1306.T, ^TOPX, ^N225 and the futures, and is a normal,
  beta-explained move for stocks). Day 0 = first session whose close is at or after the
  announcement time in events.csv.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import io
import sys
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))

from eventstudy.inputs.events import load_events  # noqa: E402
from eventstudy.io_utils import atomic_write_bytes, atomic_write_text  # noqa: E402
from eventstudy.inputs.study import bundled_study, default_events_path, default_universe_path  # noqa: E402
from eventstudy.inputs.universe import is_equity, load_universe  # noqa: E402

GROUPS = bundled_study().labels.order

SEED = 20251114
START, END = "2024-09-02", "2026-03-31"
DEFAULT_OUT = REPO / "eventstudy" / "data" / "offline"
MARKET_FILE = "SIMULATED_market.csv.gz"
EFFECTS_FILE = "TRUE_EFFECTS.csv"
README_FILE = "README.md"
BENCHMARKS = ("1306.T", "^N225", "^GSPC", "^TOPX", "JPY=X")
MARKET = "__market__"  # pseudo-group: a Japan-market-level shock

# (event_id, group, rel_day, abnormal_return as a simple return)
EFFECTS: tuple[tuple[str, str, int, float], ...] = (
    ("travel_advisory", "tourism_consumption", 0, -0.05),
    ("travel_advisory", "tourism_consumption", 1, -0.01),
    ("seafood_ban", "seafood_food", 0, -0.03),
    ("dual_use_ban", MARKET, 0, -0.01),
    ("dual_use_ban", "rare_earth_magnets", 0, -0.025),
    ("dual_use_ban", "machinery_semis", 0, -0.02),
    ("dual_use_ban", "defence", 0, -0.015),
    ("dual_use_ban", "beneficiaries", 0, 0.12),
    ("dual_use_ban", "control", 0, 0.0),
)

# front-month basis jump at each quarterly roll (log): NIY (yen) in backwardation (dividend
# yield above yen rates), NKD (dollar) in contango (dollar rates above the dividend yield)
ROLL_JUMP = {"NIY=F": -0.003, "NKD=F": 0.003}

# group: (idiosyncratic sd, mean beta on the Japan market factor)
GROUP_PARAMS = {
    "rare_earth_magnets": (0.013, 1.0),
    "machinery_semis": (0.016, 1.2),
    "defence": (0.017, 1.0),
    "tourism_consumption": (0.014, 0.85),
    "seafood_food": (0.011, 0.6),
    "beneficiaries": (0.020, 0.9),
    "control": (0.009, 0.6),
}
DEFAULT_GROUP_PARAMS = (0.015, 1.0)

# plausible starting levels (rough, Sep 2024 order of magnitude; not market data)
START_LEVEL = {
    "^GSPC": 5600.0, "^N225": 38700.0, "^TOPX": 2710.0, "1306.T": 2800.0, "JPY=X": 146.5,
    "7203.T": 2700, "7267.T": 1600, "7201.T": 400, "7261.T": 1200, "7269.T": 1600, "6902.T": 2200,
    "7259.T": 1600, "6594.T": 3000, "6592.T": 2300, "4063.T": 6200, "6762.T": 1900, "5471.T": 1400,
    "6954.T": 4200, "6141.T": 2700, "6103.T": 3300, "6135.T": 6000, "6861.T": 65000, "6965.T": 1800,
    "6645.T": 6200, "8035.T": 25000, "6857.T": 6300, "4188.T": 850, "5802.T": 2400, "5711.T": 2500,
    "7011.T": 1700, "7012.T": 5300, "7013.T": 8000, "6503.T": 2500, "6701.T": 12000, "6702.T": 3000,
    "7270.T": 2600, "5631.T": 5000, "7003.T": 1400, "7721.T": 3000,
    "3099.T": 2000, "8233.T": 1200, "3086.T": 1650, "4911.T": 4000, "4922.T": 7000, "7532.T": 3900,
    "3088.T": 2400, "9201.T": 2500, "9202.T": 2900, "9616.T": 3000, "4661.T": 4000, "9706.T": 5500,
    "1301.T": 3900, "1333.T": 3000, "1332.T": 900, "2871.T": 3700, "2267.T": 3300, "2801.T": 1700,
    "2809.T": 3500,
    "6330.T": 700, "4082.T": 800, "5715.T": 1700, "1885.T": 1100, "6269.T": 2800, "1662.T": 1100,
    "2768.T": 3500, "5726.T": 2800,
    "9432.T": 150, "9433.T": 4700, "9434.T": 190, "9531.T": 3400, "9532.T": 3400, "9502.T": 1700,
    "6178.T": 1400, "3038.T": 4200, "9735.T": 5300, "2212.T": 3000,
}
DEFAULT_LEVEL = 2000.0
NS_PER_HOUR = 3_600_000_000_000


# ---------------------------------------------------------------------------------------------
# calendars and time line
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _calendar(code: str):
    import exchange_calendars as xcals

    return xcals.get_calendar(code, start="2024-01-02", end="2026-12-31")


def _sessions(code: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(_calendar(code).sessions_in_range(START, END)).astype("datetime64[ns]")


def _closes_utc_ns(code: str, sessions: pd.DatetimeIndex) -> np.ndarray:
    closes = _calendar(code).schedule["close"].reindex(sessions)  # UTC, includes early closes
    if closes.isna().any():
        raise RuntimeError(f"{code}: no close time for some sessions")
    return pd.DatetimeIndex(closes).tz_convert("UTC").tz_localize(None).astype("datetime64[ns]").asi8


def _local_closes_ns(sessions: pd.DatetimeIndex, hhmm: str, tz: str) -> np.ndarray:
    stamps = pd.DatetimeIndex([pd.Timestamp(f"{d:%Y-%m-%d} {hhmm}", tz=tz) for d in sessions])
    return stamps.tz_convert("UTC").tz_localize(None).astype("datetime64[ns]").asi8


@functools.lru_cache(maxsize=None)
def calendars() -> dict[str, tuple[pd.DatetimeIndex, np.ndarray]]:
    """Session dates and close times (UTC ns) of the four calendars used (cached; read-only)."""
    xtks = _sessions("XTKS")
    xnys = _sessions("XNYS")
    cmes = _sessions("CMES")
    weekdays = pd.bdate_range(START, END).astype("datetime64[ns]")
    return {
        "XTKS": (xtks, _closes_utc_ns("XTKS", xtks)),
        "XNYS": (xnys, _closes_utc_ns("XNYS", xnys)),
        # CME Globex equity-index futures settle at 16:00 CT (CMES puts the close at 17:00)
        "CMES": (cmes, _local_closes_ns(cmes, "16:00", "America/Chicago")),
        "FX": (weekdays, _local_closes_ns(weekdays, "17:00", "America/New_York")),
    }


def day0_index(closes_ns: np.ndarray, announced_utc_ns: int) -> int:
    """Index of the first session whose close is at or after the announcement."""
    return int(np.searchsorted(closes_ns, announced_utc_ns, side="left"))


def level_at(times_ns: np.ndarray, values: np.ndarray, closes_ns: np.ndarray) -> np.ndarray:
    """Cumulative sum of shocks with time <= each close (times sorted)."""
    cum = np.concatenate([[0.0], np.cumsum(values)])
    return cum[np.searchsorted(times_ns, closes_ns, side="right")]


def roll_dates(start: str, end: str) -> pd.DatetimeIndex:
    """Second Fridays of Mar/Jun/Sep/Dec from the quarter before ``start`` to the one after ``end``."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    out = []
    for year in range(s.year - 1, e.year + 2):
        for month in (3, 6, 9, 12):
            first = pd.Timestamp(year=year, month=month, day=1)
            out.append(first + pd.Timedelta(days=(4 - first.weekday()) % 7 + 7))
    return pd.DatetimeIndex(out).astype("datetime64[ns]")


def front_month_basis(dates: pd.DatetimeIndex, jump: float) -> np.ndarray:
    """Log basis of a continuous front-month series: ``jump`` right after a roll, linearly to 0 at the next."""
    rolls = roll_dates(START, END)
    nxt = rolls.searchsorted(dates, side="right")
    r_next, r_prev = rolls[nxt], rolls[nxt - 1]
    frac = (r_next - dates).days.to_numpy() / (r_next - r_prev).days.to_numpy()
    return jump * frac


def _t(rng: np.random.Generator, df: float, size) -> np.ndarray:
    """Student-t draws scaled to unit variance."""
    return rng.standard_t(df, size=size) * np.sqrt((df - 2.0) / df)


def _rng(seed: int, name: str) -> np.random.Generator:
    """An independent stream per named component, stable whatever else is in the universe."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


# ---------------------------------------------------------------------------------------------
# simulation
# ---------------------------------------------------------------------------------------------
def simulate(
    seed: int = SEED, effects: Sequence[tuple[str, str, int, float]] = EFFECTS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the market. Returns ``(prices, true_effects)``.

    ``prices``: long ``date, ticker, close`` (float, unrounded), one row per ticker and session.
    ``true_effects``: ``event_id, group, calendar, date, rel_day, abnormal_return``.
    The random draws do not depend on ``effects``: ``effects=()`` is the exact counterfactual
    without events, and a subset of :data:`EFFECTS` isolates one effect.
    """
    universe = load_universe(default_universe_path())
    events = load_events(default_events_path()).set_index("event_id")
    cals = calendars()
    xtks, xtks_close = cals["XTKS"]
    xnys, xnys_close = cals["XNYS"]
    cmes, cmes_close = cals["CMES"]
    fx, fx_close = cals["FX"]
    n_tk = len(xtks)

    # --- shocks on the UTC time line -------------------------------------------------------
    rg = _rng(seed, "global")
    g = 0.0004 + 0.010 * _t(rg, 4.0, len(xnys))
    rj = _rng(seed, "japan")
    evening = 0.0035 * _t(rj, 5.0, n_tk)
    intraday = 0.0002 + 0.0070 * _t(rj, 5.0, n_tk)
    tilt = 0.0035 * _t(_rng(seed, "nikkei_tilt"), 5.0, n_tk)
    prev_close = np.concatenate([[xtks_close[0] - 24 * NS_PER_HOUR], xtks_close[:-1]])
    intraday_t = xtks_close - 1 * NS_PER_HOUR
    j_times = [xnys_close, prev_close + 3 * NS_PER_HOUR, intraday_t]
    j_vals = [0.5 * g, evening, intraday]

    # --- day 0 of each event per calendar, and the effects table ----------------------------
    def announced_ns(event_id: str) -> int:
        ts = events.loc[event_id, "announced_at"]
        return int(pd.Timestamp(ts).tz_convert("UTC").tz_localize(None).value)

    effect_rows = []
    stock_effect = {}  # (group, xtks index) -> log effect
    for event_id, group, rel, ar in effects:
        t_ann = announced_ns(event_id)
        k0 = day0_index(xtks_close, t_ann)
        k = k0 + rel
        if group == MARKET:
            if ar != 0.0:
                j_times.append(np.array([t_ann]))
                j_vals.append(np.array([np.log1p(ar)]))
            c0 = day0_index(cmes_close, t_ann)
            effect_rows.append((event_id, "futures", "CMES", cmes[c0], rel, ar))
            effect_rows.append((event_id, "index", "XTKS", xtks[k], rel, ar))
        else:
            if ar != 0.0:
                stock_effect[(group, k)] = stock_effect.get((group, k), 0.0) + np.log1p(ar)
            effect_rows.append((event_id, group, "XTKS", xtks[k], rel, ar))
    # explicit zeros: every group not named for an event's day 0
    for event_id in dict.fromkeys(e[0] for e in effects):
        named = {r[1] for r in effect_rows if r[0] == event_id and r[4] == 0}
        t_ann = announced_ns(event_id)
        k0 = day0_index(xtks_close, t_ann)
        for group in GROUPS:
            if group in named:
                continue
            if group == "futures":
                effect_rows.append((event_id, group, "CMES", cmes[day0_index(cmes_close, t_ann)], 0, 0.0))
            else:
                effect_rows.append((event_id, group, "XTKS", xtks[k0], 0, 0.0))

    jt = np.concatenate(j_times)
    jv = np.concatenate(j_vals)
    order = np.argsort(jt, kind="stable")
    jt, jv = jt[order], jv[order]

    J_tk = level_at(jt, jv, xtks_close)
    N_tk = np.cumsum(tilt)  # tilt arrives intraday: level at each Tokyo close
    J_cme = level_at(jt, jv, cmes_close)
    N_cme = level_at(intraday_t, tilt, cmes_close)
    j0 = J_tk[0] + N_tk[0]

    series: dict[str, tuple[pd.DatetimeIndex, np.ndarray]] = {}
    series["^GSPC"] = (xnys, START_LEVEL["^GSPC"] * np.exp(np.cumsum(g) - g[0]))
    series["^TOPX"] = (xtks, START_LEVEL["^TOPX"] * np.exp(J_tk - J_tk[0]))
    track = 0.0003 * _rng(seed, "1306.T").standard_normal(n_tk)
    series["1306.T"] = (xtks, START_LEVEL["1306.T"] * np.exp(J_tk - J_tk[0] + track - track[0]))
    series["^N225"] = (xtks, START_LEVEL["^N225"] * np.exp(J_tk + N_tk - j0))
    fx_g = level_at(xnys_close, 0.3 * g, fx_close)
    fx_noise = np.cumsum(0.005 * _t(_rng(seed, "JPY=X"), 4.0, len(fx)))
    fx_log = fx_g + fx_noise
    series["JPY=X"] = (fx, START_LEVEL["JPY=X"] * np.exp(fx_log - fx_log[0]))

    tickers = universe["ticker"].tolist()
    for fut in [t for t in tickers if t.endswith("=F")]:
        noise = 0.0002 * _rng(seed, fut).standard_normal(len(cmes))
        basis = front_month_basis(cmes, ROLL_JUMP.get(fut, 0.003))
        series[fut] = (cmes, START_LEVEL["^N225"] * np.exp(J_cme + N_cme - j0 + basis + noise))

    dJ = np.diff(J_tk, prepend=J_tk[0])  # Japan market log return per Tokyo session (0 on the first)
    for group, members in universe.groupby("group", sort=False):
        eq = [t for t in members["ticker"] if is_equity(t)]
        if not eq:
            continue
        sd_e, beta_mean = GROUP_PARAMS.get(group, DEFAULT_GROUP_PARAMS)
        f = (sd_e / np.sqrt(3.0)) * _t(_rng(seed, f"group:{group}"), 5.0, n_tk)
        eff = np.zeros(n_tk)
        for (gname, k), v in stock_effect.items():
            if gname == group:
                eff[k] += v
        for t in eq:
            r = _rng(seed, t)
            beta = beta_mean + r.uniform(-0.15, 0.15)
            sd_i = sd_e * r.uniform(0.85, 1.15)
            e = sd_i * _t(r, 4.0, n_tk)
            ret = beta * dJ + f + e + eff
            ret[0] = 0.0
            series[t] = (xtks, float(START_LEVEL.get(t, DEFAULT_LEVEL)) * np.exp(np.cumsum(ret)))

    frames = [
        pd.DataFrame({"date": dates, "ticker": t, "close": values})
        for t, (dates, values) in series.items()
    ]
    prices = pd.concat(frames, ignore_index=True)
    prices = prices.sort_values(["ticker", "date"], kind="mergesort").reset_index(drop=True)

    table = pd.DataFrame(effect_rows, columns=["event_id", "group", "calendar", "date", "rel_day", "abnormal_return"])
    ev_order = {e: i for i, e in enumerate(dict.fromkeys(e[0] for e in effects))}
    g_order = {g: i for i, g in enumerate(GROUPS)}
    table = table.assign(_e=table["event_id"].map(ev_order), _g=table["group"].map(g_order))
    table = table.sort_values(["_e", "rel_day", "_g"], kind="mergesort").drop(columns=["_e", "_g"])
    table["date"] = pd.to_datetime(table["date"]).astype("datetime64[ns]")
    return prices, table.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# serialisation
# ---------------------------------------------------------------------------------------------
def _fmt(ticker: str) -> str:
    return "{:.4f}" if ticker == "JPY=X" else "{:.2f}"


def market_csv_bytes(prices: pd.DataFrame) -> bytes:
    """``date,ticker,close,adj_close`` text with fixed formatting (adj_close = close)."""
    out = io.StringIO()
    out.write("date,ticker,close,adj_close\n")
    for ticker, sub in prices.groupby("ticker", sort=True):
        fmt = _fmt(ticker)
        for d, v in zip(sub["date"].dt.strftime("%Y-%m-%d"), sub["close"].to_numpy()):
            s = fmt.format(v)
            out.write(f"{d},{ticker},{s},{s}\n")
    return out.getvalue().encode("utf-8")


def effects_csv_text(effects: pd.DataFrame) -> str:
    lines = ["event_id,group,calendar,date,rel_day,abnormal_return"]
    for r in effects.itertuples(index=False):
        lines.append(f"{r.event_id},{r.group},{r.calendar},{r.date:%Y-%m-%d},{r.rel_day},{r.abnormal_return:.4f}")
    return "\n".join(lines) + "\n"


def readme_text(prices: pd.DataFrame, effects: pd.DataFrame, seed: int) -> str:
    tick = sorted(prices["ticker"].unique())
    table = "\n".join(
        f"| {r.event_id} | {r.group} | {r.calendar} | {r.date:%Y-%m-%d} | {r.rel_day} | {100 * r.abnormal_return:+.1f}% |"
        for r in effects.itertuples(index=False)
        if r.abnormal_return != 0.0
    )
    doc = (__doc__ or "").split("Model (", 1)[1].split(":", 1)[1]
    return f"""# SIMULATED market data — NOT market data. Every price here is made up by a random generator.

This folder is bundled with `eventstudy` so the China–Japan study, the tests and the demo run
offline. `OfflineSource` reports it with `simulated=True`, and every report made from it says
SIMULATED. Do not draw conclusions about real markets from it.

- `{MARKET_FILE}`: long `date,ticker,close,adj_close` (adj_close = close), {len(tick)} tickers,
  {START} to {END}, each ticker on its own calendar: XTKS sessions (exchange_calendars) for `.T`,
  `^N225`, `^TOPX`; CMES sessions for `NKD=F`, `NIY=F` (CME day convention: the bar dated D closes
  16:00 America/Chicago on D); XNYS for `^GSPC`; weekdays for `JPY=X`.
- `{EFFECTS_FILE}`: the abnormal returns injected into the data (simple returns; the day's gross
  return of every stock of the group is multiplied by 1 + abnormal_return, relative to the same
  draws without the event). Zero rows are explicit "no effect" groups. `futures` and `index` rows
  are a Japan-market-level shock, measured against ^GSPC; for stocks it is a beta-explained move.

Regenerate (byte-identical output; seed {seed}):

    python scripts/make_offline_market.py

Injected effects (the known answer):

| event_id | group | calendar | date | rel_day | abnormal return |
|---|---|---|---|---|---|
{table}

The other events of events.csv, and the groups not listed, have no injected effect of their own
(TRUE_EFFECTS.csv lists the zeros of these three events explicitly). Events that share a day 0
see the same prices: china_daily_ree and japan_protest fall on dual_use_ban's Tokyo 2026-01-07.
Closes are rounded to 0.01 (JPY=X to 0.0001).

Futures roll: the continuous front-month series jump at each quarterly roll, on the second
Friday of Mar/Jun/Sep/Dec (NIY=F {100 * ROLL_JUMP['NIY=F']:+.1f}%, NKD=F {100 * ROLL_JUMP['NKD=F']:+.1f}%).

## Model

All returns are log returns; "sd" = daily standard deviation.
{doc.strip()}
"""


def build(out_dir: str | Path = DEFAULT_OUT, seed: int = SEED) -> dict[str, Path]:
    """Simulate and write the three files into ``out_dir`` (atomically). Returns their paths."""
    out = Path(out_dir)
    prices, effects = simulate(seed=seed)
    data = gzip.compress(market_csv_bytes(prices), compresslevel=9, mtime=0)
    paths = {
        "market": atomic_write_bytes(out / MARKET_FILE, data),
        "effects": atomic_write_text(out / EFFECTS_FILE, effects_csv_text(effects)),
        "readme": atomic_write_text(out / README_FILE, readme_text(prices, effects, seed)),
    }
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the bundled SIMULATED offline market (not market data).")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: eventstudy/data/offline)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = ap.parse_args(argv)
    paths = build(args.out, args.seed)
    for p in paths.values():
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
