"""Developer tooling around the code location, never imported by it: the launcher behind the
Makefile's targets, the run summary, the benchmark and the UI's port guard."""
