"""The CSV files `eventstudy run` writes: a contract users script against (see README).

All values are decimals (0.01 = 1%) except where a column name says otherwise; dates are
ISO ``YYYY-MM-DD`` exchange-local trading dates. Every file is written atomically. Text cells
a spreadsheet would evaluate as a formula (``= + - @``, tab, CR first) get a leading ``'``
unless raw output is asked for (:func:`eventstudy.io_utils.spreadsheet_safe`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .io_utils import atomic_write_text, ensure_out_dir, spreadsheet_safe
from .regression import REG_COLUMNS

AR_COLUMNS = ["event_id", "ticker", "group", "date", "rel_day", "ret", "normal_ret", "ar", "sar"]
CAR_COLUMNS = ["event_id", "ticker", "group", "window_start", "window_end", "car", "car_se", "scar", "p_value", "bhar"]
TEST_COLUMNS = ["event_id", "group", "window_start", "window_end", "n", "caar", "test", "statistic", "p_value"]
DAY0_COLUMNS = ["event_id", "ticker", "calendar", "announced_at", "day0", "reason", "alignment"]
EXCLUSION_COLUMNS = ["event_id", "ticker", "window_start", "window_end", "reason"]


def _csv(df: pd.DataFrame, raw: bool = False) -> str:
    out = df.copy() if raw else spreadsheet_safe(df).copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def study_frames(run) -> dict[str, pd.DataFrame]:
    """The contract frames of a :class:`~eventstudy.pipeline.StudyRun`, keyed by file name."""
    r = run.result
    excl = pd.concat([
        r.exclusions[EXCLUSION_COLUMNS],
        pd.DataFrame({"event_id": run.excluded["event_id"], "ticker": run.excluded["ticker"],
                      "window_start": float("nan"), "window_end": float("nan"), "reason": run.excluded["reason"]}),
    ], ignore_index=True)
    reg = run.regressions.reindex(columns=REG_COLUMNS)
    return {
        "abnormal_returns.csv": r.ar[AR_COLUMNS],
        "car.csv": r.car[CAR_COLUMNS],
        "tests.csv": r.tests[TEST_COLUMNS],
        "regressions.csv": reg,
        "day0.csv": run.day0.reindex(columns=DAY0_COLUMNS),
        "exclusions.csv": excl,
        "params.csv": r.params,
        "limit_flags.csv": _limit_flags(run),
        "primary_hypotheses.csv": _primary(run),
    }


def _limit_flags(run) -> pd.DataFrame:
    """Pair-windows containing a price-limit day (:func:`eventstudy.limits.limit_flags`; empty without limits)."""
    from .limits import LIMIT_FLAG_COLUMNS
    f = getattr(run, "limit_flags", None)
    return f[LIMIT_FLAG_COLUMNS] if f is not None else pd.DataFrame(columns=LIMIT_FLAG_COLUMNS)


def _primary(run) -> pd.DataFrame:
    """The declared primary hypotheses with their tests (:func:`eventstudy.hypotheses.primary_table`)."""
    from .hypotheses import primary_table
    return primary_table(run)


def write_csvs(run, out_dir: str | Path, raw: bool = False) -> dict[str, Path]:
    """Write every contract CSV of ``run`` into ``out_dir``; returns name -> path.
    ``raw``: write text cells verbatim (no ``'`` before formula-like text)."""
    out = ensure_out_dir(out_dir)
    return {name: atomic_write_text(out / name, _csv(df, raw)) for name, df in study_frames(run).items()}


def csv_text(df: pd.DataFrame, raw: bool = False) -> str:
    """``df`` as the CSV text the contract files use (dates ``YYYY-MM-DD``, floats to 10 significant digits,
    formula-like text made inert unless ``raw``)."""
    return _csv(df, raw)
