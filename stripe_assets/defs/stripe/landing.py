"""The landing zone: where it lives, how dlt writes to it, and how raw reads it back.

The landing zone is dlt's filesystem destination (a local folder or `s3://`), append-only, one
folder per table, one Parquet file set per load. Raw reads only loads that dlt recorded as
complete in `_dlt_loads`, so a landing load cut short by a crash is never half-read. Each load's
files are listed in a manifest of ours (`_stripe_manifests/<load_id>.json`), written once dlt has
completed it, so that a file gone missing since stops the raw load, named, instead of leaving raw
short of its objects; a load landed before manifests existed, or whose run died between landing
it and writing its manifest, is read as it is.
"""

from collections.abc import Iterable, Iterator, Mapping

import dlt
import fsspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.configuration.specs import AwsCredentials
from dlt.extract.resource import DltResource

from stripe_assets.compat.dlt import archive_loaded_packages, remove_half_deleted_packages
from stripe_assets.settings import aws_settings

DATASET = "stripe"
BATCH_ROWS = 10_000
MANIFESTS = "_stripe_manifests"
LANDING_ZONE_SOURCE = "stripe_landing_zone"  # the dlt source raw is loaded from


def is_s3(bucket_url: str) -> bool:
    return bucket_url.startswith("s3://")


def landing_destination(bucket_url: str):
    credentials = AwsCredentials(**aws_settings()) if is_s3(bucket_url) else None
    return dlt.destinations.filesystem(bucket_url=bucket_url, credentials=credentials)


def landing_filesystem(bucket_url: str) -> fsspec.AbstractFileSystem:
    if not is_s3(bucket_url):
        return fsspec.filesystem("file")
    aws = aws_settings()
    return fsspec.filesystem(
        "s3",
        # a fresh listing every time: loads land between two reads of the same process
        skip_instance_cache=True,
        use_listings_cache=False,
        key=aws.get("aws_access_key_id"),
        secret=aws.get("aws_secret_access_key"),
        endpoint_url=aws.get("endpoint_url"),
        client_kwargs={"region_name": aws["region_name"]} if "region_name" in aws else {},
    )


def dataset_root(bucket_url: str) -> str:
    return f"{bucket_url.removeprefix('s3://')}/{DATASET}"


def completed_load_ids(fs: fsspec.AbstractFileSystem, root: str) -> list[str]:
    """Load ids that dlt finished writing, oldest first (`_dlt_loads/<schema>__<load_id>.jsonl`)."""
    names = fs.glob(f"{root}/_dlt_loads/*.jsonl")
    load_ids = {name.rsplit("/", 1)[-1].removesuffix(".jsonl").split("__", 1)[1] for name in names}
    return sorted(load_ids, key=float)


def write_manifests(bucket_url: str, load_ids: Iterable[str], tables: Iterable[str]) -> None:
    """For each completed load, the files it landed (see the module's docstring)."""
    fs, root = landing_filesystem(bucket_url), dataset_root(bucket_url)
    fs.makedirs(f"{root}/{MANIFESTS}", exist_ok=True)  # a local folder; nothing on S3
    for load_id in load_ids:
        files = sorted(
            path.removeprefix(f"{root}/")
            for table in tables
            for path in fs.glob(f"{root}/{table}/{load_id}.*.parquet")
        )
        fs.pipe_file(f"{root}/{MANIFESTS}/{load_id}.json", orjson.dumps({"files": files}))


class Manifests:
    """The manifests of a landing zone, each read once however many tables consult it."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str):
        self.fs, self.root = fs, root
        self._files: dict[str, set[str] | None] = {}

    def files(self, load_id: str, table: str) -> set[str] | None:
        """The files the load landed for the table, or None without a manifest."""
        if load_id not in self._files:
            try:
                manifest = orjson.loads(self.fs.cat_file(f"{self.root}/{MANIFESTS}/{load_id}.json"))
                self._files[load_id] = set(manifest["files"])
            except FileNotFoundError:
                self._files[load_id] = None
        files = self._files[load_id]
        return None if files is None else {f for f in files if f.startswith(f"{table}/")}


def _location(path: str, bucket_url: str) -> str:
    """A landed file as the user names it: fsspec drops s3://."""
    return f"s3://{path}" if is_s3(bucket_url) else path


class LandingZoneError(Exception):
    """The landing zone cannot be loaded as it is; the message is the sentence saying why."""


class UnreadableLandedFile(LandingZoneError):
    """A landed file that is not readable Parquet (truncated or overwritten by hand, or written
    by another tool): the raw load stops before changing anything, naming the file."""

    def __init__(self, path: str, bucket_url: str, error: pa.ArrowException):
        super().__init__(
            f"The landed file {_location(path, bucket_url)} is not readable Parquet ({error}): "
            "raw was left as it was. Put back a good copy of the file and rerun; the landing "
            "zone is the only copy of what that load fetched."
        )


class MissingLandedFile(LandingZoneError):
    """A file its load's manifest lists is gone: reading the load without it would leave raw
    short of its objects for good (a rebuild would replace complete raw with incomplete raw)."""

    def __init__(self, path: str, bucket_url: str, load_id: str):
        super().__init__(
            f"The landed file {_location(path, bucket_url)} of load {load_id} is missing from the "
            "landing zone: raw was left as it was. Put the file back (the landing zone is the "
            "only copy of what that load fetched) and rerun."
        )


class AnotherLandingZone(LandingZoneError):
    """Raw took a load this landing zone does not hold. A landing zone only grows, so raw was
    loaded from another one (LANDING_BUCKET_URL changed, DUCKDB_PATH kept): loading this one
    too would merge two zones' objects, the sandbox's and an account's perhaps, in raw."""

    def __init__(self, bucket_url: str, table: str, load_id: str):
        super().__init__(
            f"Raw {table} was loaded from another landing zone than {bucket_url} (its last load, "
            f"{load_id}, is not there): point DUCKDB_PATH at a warehouse of its own for this "
            "landing zone, or run `make rebuild-raw` to reload raw from this one alone."
        )


def raw_from_another_zone(bucket_url: str, last_loads: Mapping[str, str]) -> str | None:
    """Why raw, whose tables last took `last_loads` (table: load id), must not be loaded from
    this landing zone (AnotherLandingZone's sentence), or None; asked before a run starts."""
    if not last_loads:
        return None
    held = set(completed_load_ids(landing_filesystem(bucket_url), dataset_root(bucket_url)))
    for table, load_id in sorted(last_loads.items()):
        if load_id not in held:
            return str(AnotherLandingZone(bucket_url, table, load_id))
    return None


def _read_new_loads(
    fs: fsspec.AbstractFileSystem, manifests: Manifests, bucket_url: str, table: str
) -> Iterator[pa.RecordBatch]:
    state = dlt.current.resource_state()
    raw_load_id = dlt.current.load_package_state()["load_id"]
    last_load_id = state.get("last_load_id")
    root = dataset_root(bucket_url)
    load_ids = completed_load_ids(fs, root)
    if last_load_id is not None and last_load_id not in load_ids:
        raise AnotherLandingZone(bucket_url, table, last_load_id)
    for load_id in load_ids:
        if last_load_id is not None and float(load_id) <= float(last_load_id):
            continue
        paths = sorted(fs.glob(f"{root}/{table}/{load_id}.*.parquet"))
        landed = manifests.files(load_id, table)
        missing = sorted((landed or set()) - {path.removeprefix(f"{root}/") for path in paths})
        if missing:
            raise MissingLandedFile(f"{root}/{missing[0]}", bucket_url, load_id)
        for path in paths:
            try:
                with fs.open(path, "rb") as handle:
                    for batch in pq.ParquetFile(handle).iter_batches(batch_size=BATCH_ROWS):
                        yield _as_raw_rows(batch, raw_load_id)
            except pa.ArrowException as error:
                raise UnreadableLandedFile(path, bucket_url, error) from None
        state["last_load_id"] = load_id


def _as_raw_rows(batch: pa.RecordBatch, raw_load_id: str) -> pa.RecordBatch:
    """Keep the landing load id as provenance under another name, and stamp each row with
    this raw load's id as `_dlt_load_id` (dlt adds none to Arrow rows): it only grows, so the
    incremental dbt models rebuild just what a load wrote since their last build."""
    names = ["_landing_load_id" if n == "_dlt_load_id" else n for n in batch.schema.names]
    stamp = pa.array([raw_load_id] * batch.num_rows, pa.string())
    return pa.RecordBatch.from_arrays([*batch.columns, stamp], names=[*names, "_dlt_load_id"])


@dlt.source(name=LANDING_ZONE_SOURCE, max_table_nesting=0)
def landing_zone(bucket_url: str, tables: list[str]) -> Iterator[DltResource]:
    """Each table's landing loads not yet in raw, merged on `id` keeping the latest fetch; the
    last one read is each resource's `last_load_id` in the raw pipeline's state."""
    fs = landing_filesystem(bucket_url)
    manifests = Manifests(fs, dataset_root(bucket_url))
    for table in tables:
        yield dlt.resource(
            _read_new_loads(fs, manifests, bucket_url, table),
            name=table,
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            primary_key="id",
            columns={"_extracted_at": {"dedup_sort": "desc"}},
        )


def finish_interrupted_loads(pipeline: dlt.Pipeline) -> list[str]:
    """Load what a killed run extracted but never loaded; returns those load ids.

    Given pending packages, dlt's `run()` loads them and returns without extracting what it was
    given, so a run after a crash would quietly sync nothing new. Finishing them first keeps
    every run whole: the dead run's data lands, then this run's own.
    """
    remove_half_deleted_packages(pipeline)
    archive_loaded_packages(pipeline)
    if not pipeline.has_pending_data:
        return []
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    return list(pipeline.load().loads_ids)
