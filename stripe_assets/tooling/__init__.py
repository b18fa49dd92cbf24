"""Developer tooling around the code location, never imported by it: the launcher behind the
Makefile's targets, the run summary, the benchmark and the UI's port guard."""

import os

# dlt warns about every all-null column and about the stripe/stripe catalog name, which
# warehouse.py handles; its errors still surface as exceptions. dlt fixes its log level when it is
# first imported (the code location's modules import it), so this is set before any of them is.
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
