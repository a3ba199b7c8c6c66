"""⑧ Whole studies from files: events + universe + prices -> :class:`StudyRun`; firm events; placebo calibration."""
