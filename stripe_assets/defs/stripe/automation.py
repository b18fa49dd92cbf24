"""The landing-zone sensor, and the raw rebuild job.

`landing_zone_sensor` sees each load dlt completes in the landing zone (its `_dlt_loads` marker;
on S3 listed with `dagster_aws`'s `get_objects` from a LastModified cursor) and asks for a run
loading the tables that load touched into raw and rebuilding the dbt models built on them, with
the models those read. Loads written by any writer count: the automation's sync here, `make
run`, another deployment. It starts stopped, like the automation sensor: turn both on in the UI
(Automation), where they run under the daemon. DuckDB is written by one run at a time whatever
starts them: every step that opens it is in the `duckdb` pool, limited to one (the instance's
dagster.yaml).
"""

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg

from stripe_assets.settings import aws_settings

from .assets import LANDING_GROUP, RAW_GROUP, raw_key
from .catalog import TABLES
from .landing import dataset_root, is_s3, landing_filesystem
from .preflight import raw_zone_problem
from .resources import StorageResource

MARKERS = "_dlt_loads"

stripe_raw_rebuild_job = dg.define_asset_job(
    "stripe_raw_rebuild",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description="Empty raw and reload it from every landed load; no Stripe request.",
    config={"ops": {"stripe_raw": {"config": {"full_refresh": True}}}},
)


@dataclass(frozen=True)
class LoadMarker:
    """A load dlt completed: `_dlt_loads/<schema>__<load_id>.jsonl` and when it was written."""

    name: str
    modified_at: float

    @property
    def load_id(self) -> str:
        return self.name.rsplit("/", 1)[-1].removesuffix(".jsonl").split("__", 1)[1]


@dataclass
class LandingCursor:
    """The newest marker time seen, and the markers seen at that time (timestamps can tie)."""

    modified_at: float = 0.0
    names: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, raw: str | None) -> "LandingCursor":
        if not raw:
            return cls()
        value = json.loads(raw)
        return cls(value["modified_at"], set(value["names"]))

    def dump(self) -> str:
        return json.dumps({"modified_at": self.modified_at, "names": sorted(self.names)})

    def unseen(self, markers: list[LoadMarker]) -> list[LoadMarker]:
        return sorted(
            (
                m
                for m in markers
                if m.modified_at > self.modified_at
                or (m.modified_at == self.modified_at and m.name not in self.names)
            ),
            key=lambda m: (m.modified_at, float(m.load_id)),
        )

    def advanced(self, markers: list[LoadMarker]) -> "LandingCursor":
        newest = max(m.modified_at for m in markers)
        tied = {m.name for m in markers if m.modified_at == newest}
        return LandingCursor(newest, tied | (self.names if newest == self.modified_at else set()))


def list_markers(bucket_url: str, since: float) -> list[LoadMarker]:
    """Completion markers written at or after `since` (epoch seconds)."""
    root = dataset_root(bucket_url)
    if is_s3(bucket_url):
        # imported here: dagster_aws costs every process loading the definitions ~0.9 s of CPU
        import boto3
        from dagster_aws.s3.sensor import get_objects

        bucket, _, prefix = root.partition("/")
        client = boto3.client("s3", **aws_settings())
        objects = get_objects(
            bucket,
            prefix=f"{prefix}/{MARKERS}/",
            # S3 keeps whole seconds and `get_objects` is exclusive: look one second back
            since_last_modified=datetime.fromtimestamp(since - 1, tz=UTC) if since else None,
            client=client,
        )
        return [
            LoadMarker(obj["Key"], obj["LastModified"].timestamp())
            for obj in objects
            if obj["Key"].endswith(".jsonl")
        ]
    folder = f"{root}/{MARKERS}"
    if not os.path.isdir(folder):
        return []
    with os.scandir(folder) as entries:
        markers = [
            LoadMarker(e.path, e.stat().st_mtime) for e in entries if e.name.endswith(".jsonl")
        ]
    return [m for m in markers if m.modified_at >= since]


def tables_in_loads(bucket_url: str, load_ids: list[str]) -> list[str]:
    fs, root = landing_filesystem(bucket_url), dataset_root(bucket_url)
    touched = set()
    for load_id in load_ids:
        for path in fs.glob(f"{root}/*/{load_id}.*.parquet"):
            touched.add(path.rstrip("/").split("/")[-2])
    return [table for table in TABLES if table in touched]


@dg.sensor(
    asset_selection=dg.AssetSelection.groups(RAW_GROUP).downstream(),
    minimum_interval_seconds=60,
    description="Loads each new landing load into raw and rebuilds the models built on it.",
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource
) -> dg.SensorResult | dg.SkipReason:
    cursor = LandingCursor.parse(context.cursor)
    new = cursor.unseen(list_markers(storage.landing_bucket_url, cursor.modified_at))
    if not new:
        return dg.SkipReason("No new landing load.")
    if problem := raw_zone_problem(storage):  # the loads wait, unseen, until it is fixed
        return dg.SkipReason(problem)
    load_ids = [marker.load_id for marker in new]
    tables = tables_in_loads(storage.landing_bucket_url, load_ids)
    next_cursor = cursor.advanced(new).dump()
    if not tables:  # a load with nothing but dlt's state (a quiet sync): nothing to load
        return dg.SensorResult(skip_reason=f"Loads {load_ids} hold no rows.", cursor=next_cursor)
    touched = dg.AssetSelection.assets(*(raw_key(table) for table in tables)).downstream()
    # and every model those read, touched or not: a table no load has filled yet (disputes on a
    # new account) has no staging view until a build creates it, and marts read it
    read = touched.upstream() - dg.AssetSelection.groups(LANDING_GROUP, RAW_GROUP)
    selection = (touched | read).resolve(context.repository_def.asset_graph)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"landing-{load_ids[-1]}",
                asset_selection=sorted(selection, key=lambda key: key.to_user_string()),
                tags={"landing_loads": ",".join(load_ids)},
            )
        ],
        cursor=next_cursor,
    )
