"""⑩ Every file a run writes: CSVs, report, figures, the run folder and its manifest."""
