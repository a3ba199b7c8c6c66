"""⑨ Presentation: tables, figures and the report of a run (no file is written here)."""
