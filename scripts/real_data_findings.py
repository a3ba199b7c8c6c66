#!/usr/bin/env python
"""Run the China–Japan study on the real J-Quants closes and write what it says.

    python scripts/real_data_findings.py                      # ../shared/data/market, results-real, docs/real_data.md
    python scripts/real_data_findings.py --prices FILE --limits FILE --futures FILE

It runs exactly ``eventstudy run --prices FILE --prices FUTURES --add-universe OSE_ROW --limits FILE
--out DIR --format csv`` (the packaged events, universe, hypotheses and confounders; the J-Quants file
has no futures, so the OSE Nikkei 225 mini's daily closes and its universe row
``eventstudy/study/china_japan/universe_ose_futures.csv`` are added: the futures hypothesis is
estimated on them; ``--futures none`` leaves them out), then reads the CSVs that run wrote and
writes ``docs/real_data.md`` (every number and sentence) and the README block between
``<!-- real-data:start -->`` and ``<!-- real-data:end -->``. Sentences follow the adjusted
evidence only: the primary family's Holm p (docs/METHODS.md, section 9) and, for exploratory
cells, their window's Holm p (section 7). Re-run it after any change to the code or the data.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eventstudy.inference.hypotheses import findings  # noqa: E402
from eventstudy.io_utils import atomic_write_text  # noqa: E402
from eventstudy.inputs.study import bundled_study  # noqa: E402
from eventstudy.present.tables import group_label  # noqa: E402

MARKET = REPO.parent / "shared" / "data" / "market"
DEFAULT_PRICES = MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
DEFAULT_LIMITS = MARKET / "keroppa88_chart0_limit_hits.csv"
DEFAULT_FUTURES = MARKET / "mahoganin_ose_nk225mini_daily.csv"
OSE_ROW = REPO / "eventstudy" / "study" / "china_japan" / "universe_ose_futures.csv"
START, END = "<!-- real-data:start -->", "<!-- real-data:end -->"


def _p(x: float) -> str:
    return "–" if not math.isfinite(x) else ("<0.001" if x < 0.001 else f"{x:.3f}")


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "–" if math.isnan(x) else ("+inf" if x > 0 else "−inf")
    return f"{x:+.2f}".replace("-", "−")


def run_args(prices: Path, limits: Path | None, futures: Path | None, out: str) -> list[str]:
    """The ``eventstudy run`` arguments of the real-data run."""
    args = ["run", "--prices", str(prices)]
    if futures is not None:
        args += ["--prices", str(futures), "--add-universe", str(OSE_ROW)]
    if limits is not None:
        args += ["--limits", str(limits)]
    return args + ["--out", out]


def run(prices: Path, limits: Path | None, futures: Path | None, out: Path) -> None:
    """``eventstudy run`` on the real closes (CSV outputs only)."""
    from eventstudy.cli import main

    args = run_args(prices, limits, futures, str(out)) + ["--format", "csv"]
    rc = main(args)
    if rc != 0:
        raise SystemExit(f"eventstudy run failed with status {rc}")


def primary_frame(out: Path) -> pd.DataFrame:
    """``primary_hypotheses.csv`` of the run, with the text columns as strings."""
    pt = pd.read_csv(out / "primary_hypotheses.csv", keep_default_na=False, na_values=[""])
    for c in ("confounders", "source", "rationale", "test", "verdict", "sign_as_expected", "expected_sign"):
        pt[c] = pt[c].fillna("").astype(str)
    return pt


def exploratory_survivors(imp: pd.DataFrame) -> pd.DataFrame:
    """Exploratory impact cells whose lead p survives their window's Holm adjustment (distinct cells)."""
    e = imp[imp["role"] == "exploratory"]
    e = e[e["kolari_pynnonen_p_holm"] < 0.05]
    return e.drop_duplicates(["group_id", "window", "day0", "n", "caar_pct"])


def futures_sentence(day0: pd.DataFrame, futures: Path, tickers: list[str]) -> str:
    """What the futures rows are: the added file, and the futures' day 0 and benchmark on the dual-use ban
    (``day0``: the run's ``day0.csv``)."""
    d0 = day0[(day0["event_id"] == "dual_use_ban") & day0["ticker"].isin(tickers)]
    text = (f" The J-Quants file has no futures: the futures group is {', '.join(f'`{t}`' for t in tickers)} from "
            f"`{futures.name}` (its universe row: `eventstudy/study/china_japan/universe_ose_futures.csv`; the CME "
            "contracts of the packaged universe are in neither file).")
    for r in d0.itertuples(index=False):
        text += f" Dual-use ban, {r.ticker}: {r.reason}; benchmark {r.alignment}."
    return text


def futures_findings(pt: pd.DataFrame, day0: pd.DataFrame, tickers: list[str], labels: dict) -> list[str]:
    """One sentence per estimated primary hypothesis on the futures group (contracts ``tickers``): which
    contract, its trading date, the estimate, its interval and p-values, and the verdict (the documents' claim
    is about this move)."""
    lines = []
    for r in pt[(pt["group"] == "futures") & (pt["n"] > 0)].itertuples(index=False):
        on = day0[(day0["event_id"] == r.event_id) & day0["ticker"].isin(tickers)]
        where = "; ".join(f"{t}, day 0 {d}" for t, d in zip(on["ticker"], on["day0"]))
        lines.append(f"{r.hypothesis_id} ({r.event_id} x {labels.get(r.group, r.group)}, {r.window}; {where}): "
                     f"{r.estimate_pct:+.2f}% [95% CI {r.ci_low_pct:+.2f}, {r.ci_high_pct:+.2f}], p {_p(r.p_value)} "
                     f"(OLS t; the sample-quantile p, valid without normal returns, is {_p(r.ghk_p)}), "
                     f"Holm p {_p(r.p_holm)}: {r.verdict}"
                     + (" - by either test the move is not distinguishable from the contract's ordinary daily moves "
                        "at 5%, before or after the adjustment."
                        if r.verdict == "not supported" and not (r.ghk_p < 0.05) else "."))
    return lines


def render(out: Path, prices: Path, limits: Path | None, futures: Path | None = None) -> tuple[str, str]:
    """(docs page, README block) from the run's CSVs."""
    pt = primary_frame(out)
    imp = pd.read_csv(out / "impact_table.csv", keep_default_na=False, na_values=[""])
    fut = pd.read_csv(out / "futures_table.csv", keep_default_na=False, na_values=[""])
    lim = pd.read_csv(out / "limit_flags.csv", keep_default_na=False, na_values=[""])
    car = pd.read_csv(out / "car.csv")
    day0 = pd.read_csv(out / "day0.csv")
    params = pd.read_csv(out / "params.csv")
    study_labels = bundled_study().labels      # the run is the bundled study's (eventstudy run)
    labels = {g: group_label(g, labels=study_labels) for g in set(pt["group"]) | set(car["group"])}
    fnd = findings(pt, labels)
    fut_tickers = sorted(set(car.loc[car["group"] == "futures", "ticker"]))
    fut_lines = futures_findings(pt, day0, fut_tickers, labels)
    shared = Path("..") / "shared" / "data" / "market"
    cmd = "eventstudy " + " ".join(run_args(shared / prices.name, limits and shared / limits.name,
                                            futures and shared / futures.name, "results-real"))
    cmd = cmd.replace(str(OSE_ROW), str(OSE_ROW.relative_to(REPO)))
    n_eq = car[~car["group"].isin(["futures", "index"])]["ticker"].nunique()
    eq_bench = sorted(set(params.loc[~params["group"].isin(["futures", "index"]), "benchmark"].dropna().astype(str)))

    L = ["# What the real data says", "",
         "*Generated by `python scripts/real_data_findings.py`; do not edit by hand — re-run it after any change "
         "to the code or the data.*", "",
         "```bash", cmd, "```", "",
         f"Real daily closes (J-Quants, `{prices.name}`; read `../shared/data/market/PROVENANCE.md`): "
         f"{n_eq} equities of the universe and `^N225`; {params['model'].iloc[0]} model, equities on "
         f"{', '.join(f'`{b}`' for b in eq_bench)}; pairs estimated: {len(params)}."
         + (futures_sentence(day0, futures, fut_tickers) if futures is not None and fut_tickers else
            " The files have no Nikkei futures, so the futures hypothesis is not estimated."), "",
         "## Primary hypotheses (declared before looking, one family)", "",
         "| H | event | group | window | exp. | N | CAAR % | 95% CI | t | p | Holm p | BH q | verdict | confounded |",
         "|---|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---|---|"]
    for r in pt.itertuples(index=False):
        ci = f"[{_pct(r.ci_low_pct)}, {_pct(r.ci_high_pct)}]" if math.isfinite(r.p_value) else "–"
        L.append(f"| {r.hypothesis_id} | {r.event_id} | {labels.get(r.group, r.group)} | {r.window} | "
                 f"{r.expected_sign} | {int(r.n)} | {_pct(r.estimate_pct)} | {ci} | "
                 f"{_pct(r.statistic)} | {_p(r.p_value)} | "
                 f"{_p(r.p_holm)} | {_p(r.q_bh)} | {r.verdict} | {'yes' if r.confounders else ''} |")
    single = pt[pt["test"].str.startswith("portfolio dummy regression") & (pt["n"] > 0)]
    one = (f" {', '.join(single['hypothesis_id'])} (one instrument): {single['test'].iloc[0]}, the event-dummy "
           "regression on the instrument's benchmark; the interval is the one its p-value implies (same section)."
           if len(single) else "")
    L += ["", "Equity groups: Kolari–Pynnönen test; the interval is the set of common abnormal returns the same test "
          f"does not reject (docs/METHODS.md, section 9).{one} Holm p and BH q adjust across the primary family.", "",
          "## Findings", ""] + [f"- {s}" for s in fnd] + [f"- {s}" for s in fut_lines] + [""]

    conf = pt[pt["confounders"] != ""]
    if len(conf):
        L += ["## Confounders inside primary windows", ""]
        L += [f"- {r.hypothesis_id}: {r.confounders}" for r in conf.itertuples(index=False)] + [""]

    ex = exploratory_survivors(imp)
    L += ["## Exploratory cells", ""]
    if len(ex):
        L.append("Cells outside the primary family whose Kolari–Pynnönen p survives the Holm adjustment over their "
                 "window's cells (exploratory: suggestive, not a test of a declared question):")
        L.append("")
        for r in ex.itertuples(index=False):
            L.append(f"- {r.event_id} x {r.group} {r.window}: CAAR {_pct(r.caar_pct)}% (N {int(r.n)}), "
                     f"p {_p(r.kolari_pynnonen_p)}, window Holm p {_p(r.kolari_pynnonen_p_holm)}"
                     + (" — ex-post group, selected on these moves" if r.group_id == "beneficiaries" else "")
                     + (f"; {r.note}" if isinstance(r.note, str) and r.note else ""))
    else:
        L.append("No exploratory cell's Kolari–Pynnönen p survives the Holm adjustment over its window's cells.")
    L.append("")
    idx = fut[(fut["subject_id"] == "index") & (fut["event_id"] == "dual_use_ban") & (fut["window"] == "[0,1]")]
    if len(idx):
        r = idx.iloc[0]
        L += [f"The Nikkei 225 (`^N225`, its own event-dummy regression on its declared benchmark) moved "
              f"{_pct(float(r['car_pct']))}% over [0,1] of the dual-use ban, p {_p(float(r['p_ols']))} (OLS), "
              f"{_p(float(r['p_hac']))} (HAC): {'not ' if float(r['p_ols']) >= 0.05 else ''}significant at 5% "
              "before any adjustment.", ""]

    L += ["## Price-limit days", ""]
    if len(lim):
        pairs = lim[["event_id", "ticker", "group"]].drop_duplicates()
        d0 = lim[lim["day0_limit"].astype(str).str.lower() == "true"][["event_id", "ticker", "group"]].drop_duplicates()
        d0 = d0.merge(day0[["event_id", "ticker", "day0"]], on=["event_id", "ticker"], how="left")
        L.append(f"{len(pairs)} (event, security) pairs have a J-Quants price-limit day inside an event window "
                 "(`limit_flags.csv`); their returns are censored on those days. By group: "
                 + ", ".join(f"{labels.get(g, g)} {n}" for g, n in pairs.groupby("group").size().items()) + ".")
        for (t, g, d), grp in d0.groupby(["ticker", "group", "day0"], sort=True):
            L.append(f"- limit on day 0 ({d}): {t} ({labels.get(g, g)}), events {', '.join(grp['event_id'])}")
    else:
        L.append("No pair has a price-limit day inside an event window" + ("" if limits else " (no limits file given)")
                 + ".")
    L += ["", "Caveats: J-Quants closes are split- but not dividend-adjusted; announcement times marked [U] in "
          "`events.csv` are estimates; the ex-post `beneficiaries` group is exploratory by construction.", ""]
    doc = "\n".join(L)

    hold = pt[pt["verdict"] == "holds after adjustment"]
    B = [START,
         "*Generated by `python scripts/real_data_findings.py` from the real-data run; the numbers, table and "
         "sentences are in [docs/real_data.md](docs/real_data.md).*", "",
         "```bash", cmd, "```", ""]
    keep = 1 + len(hold) + len(pt[pt["verdict"].isin(["opposite sign", "nominal only"])])
    B += [f"- {s}" for s in fnd[:keep]]
    B += [f"- {s}" for s in fut_lines]
    B += [f"- {s}" for s in fnd[keep:] if s.startswith(("Confounded", "Price-limit", "Not estimated"))]
    B += ["- Everything else in the impact tables is exploratory; see docs/real_data.md for the cells, the "
          "confounders inside each primary window and the price-limit days.", END]
    return doc, "\n".join(B)


def update_readme(readme: Path, block: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: markers {START} ... {END} not found; put them where the section goes")
    a, rest = text.split(START, 1)
    _, b = rest.split(END, 1)
    atomic_write_text(readme, a + block + b)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prices", default=str(DEFAULT_PRICES))
    ap.add_argument("--limits", default=str(DEFAULT_LIMITS), help="price-limit flags ('none' to skip)")
    ap.add_argument("--futures", default=str(DEFAULT_FUTURES),
                    help="daily futures closes added with their universe row ('none' to skip)")
    ap.add_argument("--out", default=str(REPO / "results-real"))
    ap.add_argument("--doc", default=str(REPO / "docs" / "real_data.md"))
    ap.add_argument("--readme", default=str(REPO / "README.md"), help="README to update ('none' to skip)")
    ap.add_argument("--no-run", action="store_true", help="only re-render from an existing --out folder")
    a = ap.parse_args(argv)
    prices = Path(a.prices)
    limits = None if a.limits.lower() == "none" else Path(a.limits)
    futures = None if a.futures.lower() == "none" else Path(a.futures)
    out = Path(a.out)
    if not a.no_run:
        run(prices, limits, futures, out)
    doc, block = render(out, prices, limits, futures)
    atomic_write_text(a.doc, doc)
    print(f"wrote {a.doc}")
    if a.readme.lower() != "none":
        update_readme(Path(a.readme), block)
        print(f"updated {a.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
