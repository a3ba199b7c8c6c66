"""``eventstudy events`` (the day-0 audit) and ``eventstudy fetch`` (warm the price cache)."""
from __future__ import annotations


from eventstudy.estimation.windows import DEFAULT_WINDOWS
from eventstudy.cli.inputs import bars_from, inputs_from, study_from
from eventstudy.cli.terminal import say


def cmd_events(args) -> int:
    from eventstudy.calendars.day0 import map_day0
    from eventstudy.inputs.instruments import declared_exchanges

    if args.csv is not None:        # checked before any work
        from eventstudy.io_utils import check_out_file
        check_out_file(args.csv, "events --csv")
    bars = bars_from(args)                    # bad bars fail before any work
    events, universe, _ = inputs_from(args)
    tickers = args.ticker or list(universe["ticker"])
    unknown = [t for t in (args.ticker or []) if t not in set(universe["ticker"])]
    exch = declared_exchanges(universe, getattr(args, "instruments_table", None))
    if unknown:
        say(f"eventstudy: {', '.join(unknown)} not in the universe; calendar guessed from the symbol")
    audit = map_day0(events, tickers, exchanges={t: exch.get(t) for t in tickers})
    # one row per event x calendar unless tickers were asked for explicitly
    if not args.ticker:
        shown = (audit.groupby(["event_id", "calendar"], sort=False)
                 .agg(instruments=("ticker", "size"), announced_at=("announced_at", "first"),
                      day0=("day0", "first"), reason=("reason", "first")).reset_index())
    else:
        shown = audit[["event_id", "ticker", "calendar", "announced_at", "day0", "reason"]]
    shown = shown.copy()
    shown["day0"] = shown["day0"].dt.strftime("%Y-%m-%d (%a)")
    from eventstudy.present.tables import print_table
    print_table(shown, title="Day 0 per event and trading calendar")
    if bars is not None:
        from eventstudy.pipeline.intraday import bar0_audit
        b0 = bar0_audit(events, bars, ticker=args.bars_ticker if args.bars_ticker in bars.tickers else None,
                        venue=args.bars_venue)
        where = f"{b0['ticker'].iloc[0]} ({b0['venue'].iloc[0]} bars)" if len(b0) else "the bars"
        print_table(b0[["event_id", "end", "announced_at", "bar0_local", "session", "reason"]]
                    .rename(columns={"bar0_local": "bar 0"}), title=f"Bar 0 per event on {where}")
    if args.csv:
        from eventstudy.io_utils import atomic_write_text, spreadsheet_safe
        atomic_write_text(args.csv, (audit if args.raw_csv else spreadsheet_safe(audit)).to_csv(index=False))
        say(f"eventstudy: wrote {args.csv}")
    return 0


def cmd_fetch(args) -> int:
    from eventstudy.data.cache import PriceCache
    from eventstudy.data.yahoo import YahooSource
    from eventstudy.pipeline.market_data import price_request
    from eventstudy.estimation.windows import WindowSpec

    events, universe, _ = inputs_from(args)
    spec = WindowSpec.build(args.estimation, args.window or DEFAULT_WINDOWS)
    tickers, start, end = price_request(events, universe, spec, factors=study_from(args).defaults.extra_factors)
    cache = PriceCache(args.cache_dir)
    prices = YahooSource(cache=cache, refresh=args.refresh).get(tickers, start, end)
    say(f"eventstudy: {prices.frame['ticker'].nunique()} tickers cached in {cache.directory}")
    for t, r in zip(prices.failures["ticker"], prices.failures["reason"]):
        say(f"  failed: {t}: {r}")
    return 0
