"""① What the user gives: events, firm events, a universe, instruments, dates and a study folder."""
