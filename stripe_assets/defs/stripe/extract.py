"""Extraction from the Stripe API into the landing zone, as dlt sources.

One dlt resource per raw table. Child lists embedded in a parent (subscription items, invoice
lines) are dlt transformers fed by the parent's pages, so each parent is fetched once and each
child list is read to its last page. Every object is stamped with when it was fetched, under
which API version, and whether Stripe reports it deleted.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dlt
from dlt.extract import DltResource, DltSource

from .catalog import BY_TABLE, RESOURCES, StripeResource, column_hints
from .client import STRIPE_API_VERSION, StripeClient, StripeObject


class ReferenceTracker:
    """Which ids each table listed, and which ids other objects pointed to."""

    def __init__(self) -> None:
        self.listed: dict[str, set[str]] = defaultdict(set)
        self.referenced: dict[str, set[str]] = defaultdict(set)

    def observe(self, resource: StripeResource, objects: list[StripeObject]) -> None:
        self.listed[resource.table].update(obj["id"] for obj in objects)
        for key, table in resource.references.items():
            self.referenced[table].update(
                obj[key] for obj in objects if isinstance(obj.get(key), str)
            )

    def unlisted(self) -> dict[str, list[str]]:
        """Referenced ids that their own list did not return: deleted objects, mostly."""
        missing = {table: ids - self.listed[table] for table, ids in self.referenced.items()}
        return {table: sorted(ids) for table, ids in missing.items() if ids}


def _stamp(objects: list[StripeObject], extracted_at: datetime) -> list[StripeObject]:
    for obj in objects:
        obj["is_deleted"] = bool(obj.pop("deleted", False))
        obj["_extracted_at"] = extracted_at
        obj["_api_version"] = STRIPE_API_VERSION
    return objects


def _list_pages(
    client: StripeClient, resource: StripeResource, tracker: ReferenceTracker
) -> Iterator[list[StripeObject]]:
    for page in client.list_all(resource.path, resource.params, resource=resource.table):
        tracker.observe(resource, page)
        yield _stamp(page, datetime.now(UTC))


def _child_pages(
    client: StripeClient, resource: StripeResource, parents: list[StripeObject]
) -> Iterator[list[StripeObject]]:
    for parent in parents:
        children = client.complete_list(parent[resource.embedded_field], resource=resource.table)
        if children:
            yield _stamp(children, parent["_extracted_at"])


def _retrieved(
    client: StripeClient, resource: StripeResource, ids: list[str]
) -> Iterator[list[StripeObject]]:
    for object_id in ids:
        obj = client.get(f"{resource.path}/{object_id}", resource=resource.table)
        yield _stamp([obj], datetime.now(UTC))


def _resource_options(resource: StripeResource) -> dict:
    return {
        "name": resource.table,
        "write_disposition": "append",
        "columns": column_hints(resource),
    }


@dlt.source(name="stripe", max_table_nesting=0)
def stripe_api_source(client: StripeClient, tracker: ReferenceTracker) -> Iterator[DltResource]:
    """Every resource in the catalog, listed in full."""
    parents: dict[str, DltResource] = {}
    for resource in RESOURCES:
        if resource.parent is None:
            parent = dlt.resource(
                _list_pages(client, resource, tracker), **_resource_options(resource)
            )
            parents[resource.table] = parent
            yield parent
        else:
            yield dlt.transformer(
                lambda pages, resource=resource: _child_pages(client, resource, pages),
                data_from=parents[resource.parent],
                **_resource_options(resource),
            )


@dlt.source(name="stripe", max_table_nesting=0)
def unlisted_objects_source(
    client: StripeClient, ids_by_table: dict[str, list[str]]
) -> Iterator[DltResource]:
    """Objects retrieved by id because something references them but their list omits them."""
    for table, ids in ids_by_table.items():
        resource = BY_TABLE[table]
        yield dlt.resource(_retrieved(client, resource, ids), **_resource_options(resource))


@dataclass
class LandedLoads:
    load_ids: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)

    def add(self, pipeline: dlt.Pipeline, source: DltSource) -> None:
        info = pipeline.run(source, loader_file_format="parquet")
        self.load_ids.extend(info.loads_ids)
        self.rows.update(pipeline.last_trace.last_normalize_info.row_counts)


def extract_to_landing(pipeline: dlt.Pipeline, client: StripeClient) -> LandedLoads:
    """List everything, then fetch what the lists left dangling; one landing load for each."""
    tracker, landed = ReferenceTracker(), LandedLoads()
    landed.add(pipeline, stripe_api_source(client, tracker))
    unlisted = tracker.unlisted()
    if unlisted:
        landed.add(pipeline, unlisted_objects_source(client, unlisted))
    return landed
