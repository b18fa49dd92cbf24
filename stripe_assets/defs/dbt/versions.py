"""The code version of an incremental model, which decides whether a build tops it up or rebuilds
it whole (assets.py, `incremental_models_changed`). Read from the manifest when asked, so this
module can be imported before dbt has parsed the project."""

import functools
import hashlib
import json

from .project import dbt_project


@functools.cache
def _manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text())


def lineage_version(unique_id: str) -> str:
    """A digest of the checksums of a node and every model upstream of it, and of the
    project's own macros."""
    nodes, seen, pending = _manifest()["nodes"], set(), [unique_id]
    while pending:
        node = pending.pop()
        if node in nodes and node not in seen:
            seen.add(node)
            pending += nodes[node]["depends_on"]["nodes"]
    digest = hashlib.sha256()
    for node in sorted(seen):
        digest.update(f"{node}:{nodes[node]['checksum']['checksum']}\n".encode())
    for name, macro in sorted(_manifest()["macros"].items()):
        if macro["package_name"] == dbt_project.name:
            digest.update(f"{name}:{macro['macro_sql']}\n".encode())
    return digest.hexdigest()
