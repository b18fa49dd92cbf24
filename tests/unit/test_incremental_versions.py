"""An incremental model's code version, which decides whether the next build tops it up or
rebuilds it whole (stripe_assets/defs/dbt/versions.py): it changes with the model's SQL, with any
model upstream of it and with the project's macros, and with nothing else."""

import copy

import pytest

from stripe_assets.defs.dbt import versions
from stripe_assets.defs.dbt.project import dbt_project

MANIFEST = {
    "nodes": {
        "model.p.stg_charges": {"depends_on": {"nodes": ["source.p.stripe.charges"]}},
        "model.p.stg_refunds": {"depends_on": {"nodes": []}},
        "model.p.fct_charges": {"depends_on": {"nodes": ["model.p.stg_charges"]}},
    },
    "macros": {
        "macro.p.to_major_units": {"package_name": dbt_project.name, "macro_sql": "a / 100"},
        "macro.dbt.is_incremental": {"package_name": "dbt", "macro_sql": "dbt's own"},
    },
}
for number, node in enumerate(MANIFEST["nodes"].values()):
    node["checksum"] = {"checksum": f"sha-{number}"}


def version_after(monkeypatch, change=None) -> str:
    manifest = copy.deepcopy(MANIFEST)
    if change:
        change(manifest)
    monkeypatch.setattr(versions, "_manifest", lambda: manifest)
    return versions.lineage_version("model.p.fct_charges")


def _checksum(node: str, value: str):
    return lambda manifest: manifest["nodes"][node]["checksum"].update(checksum=value)


def _macro(name: str, sql: str):
    return lambda manifest: manifest["macros"][name].update(macro_sql=sql)


@pytest.mark.parametrize(
    "change, changes_the_version",
    [
        (_checksum("model.p.fct_charges", "edited"), True),
        (_checksum("model.p.stg_charges", "edited"), True),
        (_macro("macro.p.to_major_units", "a / 1000"), True),
        (_checksum("model.p.stg_refunds", "edited"), False),  # not upstream of it
        (_macro("macro.dbt.is_incremental", "dbt upgraded"), False),  # not the project's
    ],
)
def test_the_version_follows_what_the_model_is_built_from(monkeypatch, change, changes_the_version):
    unchanged = version_after(monkeypatch)
    assert (version_after(monkeypatch, change) != unchanged) is changes_the_version
