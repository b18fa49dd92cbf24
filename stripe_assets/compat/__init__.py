"""Where this project relies on a library's private internals: one module per library.

Nothing else imports those internals. Each module names the pinned version it was written
against, and tests/unit/test_compat.py fails when the upstream behaviour it relies on changes:
check these modules first when upgrading dagster, dagster-dbt or dlt.
"""
