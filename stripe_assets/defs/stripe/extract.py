"""Extraction from the Stripe API into the landing zone, as dlt sources.

The first run lists everything. Later runs read only what changed: immutable resources by
`created` cursor, mutable ones from the events Stripe emitted since the last run (the latest event
about an object carries the object as it now is), catalog resources in full (a few pages). Each
resource keeps its own events cursor, so a run that syncs only some (`STRIPE_RESOURCES`, a few
assets materialized in the UI) moves only theirs: a resource synced for the first time, or whose
cursor has fallen out of Stripe's 30-day events window while it was left out, is listed in full
while the others stay incremental, and the run says so. Cursors live in dlt's source state, which
is stored with each load in the landing zone, so they survive restarts, a new Dagster instance and
a lost working folder.

A run that fails while reading (an outage, a key refused a resource) keeps what it read: the pages
it had are landed with the cursors of what it finished, and each list it was cut short in notes the
`created` windows it had left (`backfill_left`), so the next run reads only those, then the events
since, instead of starting over. A run killed outright lands nothing and the next starts over.

Child lists embedded in a parent (subscription items, invoice lines) are dlt transformers fed by
the parent's rows and read to their last page. Every object is stamped with when it was fetched,
under which API version, and whether Stripe reports it deleted.
"""

import gc
import logging
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat

import dlt
from dlt.common.schema.exceptions import DataValidationError
from dlt.extract import DltResource, DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

from .catalog import BY_OBJECT, BY_TABLE, StripeResource, column_hints, field_value
from .client import (
    PAGE_SIZE,
    SANDBOX_API_KEY,
    STRIPE_API_VERSION,
    CreatedWindows,
    StripeApiError,
    StripeClient,
    StripeObject,
)
from .errors import exception_chain
from .landing import finish_interrupted_loads

log = logging.getLogger(__name__)

# A full list is read as this many `created` windows side by side, none shorter than a month;
# threads that finish early take over half of what others have left (client.CreatedWindows).
BACKFILL_WINDOWS = 6
WINDOW_MIN_SECONDS = 30 * 86_400
# Where the windows start when the account's creation cannot be read: restricted keys, which we
# recommend, may not read the account (Stripe has no permission for it). Stripe opened in 2011,
# so no account holds anything older; windows left empty cost a request each, and their readers
# take over halves of the busy ones.
BEFORE_ANY_ACCOUNT = int(datetime(2011, 1, 1, tzinfo=UTC).timestamp())
# Objects retrieved one by one (to expand what an event carried as ids, to finish an embedded list
# cut at its first page, or because their list omits them) are read this many at once: enough to
# keep live mode's 100 requests a second in flight at a few hundred milliseconds each. The shared
# request budget, not this number, sets the pace.
RETRIEVE_WORKERS = 32

# dlt holds this many rows per table before writing them out (5,000 by default). A Stripe object
# is a large nested dict in memory (an invoice with its lines is tens of KB), so seventeen tables'
# default buffers alone held ~300 MB. dlt reads only the unsectioned key here (its Airflow helper
# sets the same one).
dlt.config["data_writer.buffer_max_items"] = 1000
# An extracted package this large (compressed; ~60,000 objects) is normalized by up to this many
# processes (see normalize_workers).
PARALLEL_NORMALIZE_BYTES = 8_000_000
MAX_NORMALIZE_WORKERS = 4
EXTRACT_MIN_WORKERS = 5  # dlt's default
GC_ALLOCATIONS_BETWEEN_COLLECTIONS = 50_000  # see _rare_garbage_collections


@dataclass
class SyncReport:
    """How each table was synced in this run, for the run's log and asset metadata."""

    # full | incremental | fallback_full | relisted (see StripeSync.cheaper_to_list) | resumed
    modes: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def mode_of(self, table: str) -> str:
        """A child's rows come with its parent's: when no parent row came this run (nothing
        changed), none of its children was read either, and it was synced as its parent was."""
        return self.modes.get(table) or self.modes[BY_TABLE[table].parent]


# Where a run notes the ids it still has to retrieve one by one (see _finished_reading).
UNLISTED_STATE_KEY = "unlisted_ids"
# How many objects each mutable table held at its last full list, plus those created since:
# what listing it again would cost (see StripeSync.cheaper_to_list).
TABLE_SIZES_STATE_KEY = "table_sizes"

# Each resource that reads events (mutable ones for their changes, catalog ones for deletions, the
# events table itself): the newest event it has applied. Landing zones from before it had one
# cursor for all, under OLD_EVENTS_CURSOR_KEY.
EVENTS_CURSORS_STATE_KEY = "events_cursors"
OLD_EVENTS_CURSOR_KEY = "events_cursor"

# Ids that full lists referenced in tables a run left out: deleted objects among them are found
# only when their table is next listed in full (StripeSync._relist_what_full_lists_reference).
PENDING_REFERENCES_STATE_KEY = "pending_references"

# What lists cut short by a failed run had left, by table: {"windows": [[start, end], ...],
# "listed": objects listed so far} (see StripeSync._cut_short).
BACKFILL_LEFT_STATE_KEY = "backfill_left"

# Only these tables' listed ids are kept: an account's millions of events and balance
# transactions, which nothing points to, would otherwise fill memory with ids.
REFERENCED_TABLES = frozenset(table for r in BY_TABLE.values() for table in r.references.values())


class ReferenceTracker:
    """Which ids each fully listed table returned, and which ids other objects pointed to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.listed: dict[str, set[str]] = defaultdict(set)
        self.fully_listed: set[str] = set()
        self.referenced: dict[str, set[str]] = defaultdict(set)

    def observe(self, resource: StripeResource, objects: list[StripeObject]) -> None:
        with self._lock:
            if resource.table in REFERENCED_TABLES:
                self.listed[resource.table].update(obj["id"] for obj in objects)
            for key, table in resource.references.items():
                self.referenced[table].update(_ids_at(objects, key))

    def unlisted(self) -> dict[str, list[str]]:
        """Referenced ids that their own full list did not return: deleted objects, mostly."""
        missing = {
            table: ids - self.listed[table]
            for table, ids in self.referenced.items()
            if table in self.fully_listed
        }
        return {table: sorted(ids) for table, ids in missing.items() if ids}


def _stamp(
    objects: list[StripeObject],
    extracted_at: datetime,
    deleted: bool = False,
    api_version: str = STRIPE_API_VERSION,
) -> list[StripeObject]:
    """Each object with its deletion flag, when it was fetched, and the API version of its
    shape: ours for whatever we list or retrieve, since every request pins it, but an event's
    own for an event, whose object Stripe renders in the version the event was created with."""
    for obj in objects:
        obj["is_deleted"] = deleted or bool(obj.pop("deleted", False))
        obj["_extracted_at"] = extracted_at
        obj["_api_version"] = (
            obj.get("api_version") if obj.get("object") == "event" else None
        ) or api_version
    return objects


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class Change:
    """The latest event about an object: the object as the event carries it, whether the event
    deleted it, and the API version the event renders it in. An event about a discount carries
    the discount, not its customer or subscription: those are named only (`carried` false), to
    be read again."""

    obj: StripeObject
    deleted: bool
    api_version: str
    carried: bool = True


@dataclass
class EventChanges:
    """The latest state of every object that events since the cursor mention."""

    events: list[StripeObject] = field(default_factory=list)
    objects: dict[str, dict[str, Change]] = field(default_factory=lambda: defaultdict(dict))
    created: Counter[str] = field(default_factory=Counter)  # objects created, by table
    since: int = 0  # the cursor's `created`: every event here is at least that recent

    def add(self, event: StripeObject) -> None:
        """Events arrive newest first, so the first event about an object is its latest."""
        self.events.append(event)
        obj = event["data"]["object"]
        carried = obj.get("object") != "discount"
        if not carried:
            obj = _discount_holder(obj)
        resource = BY_OBJECT.get(obj.get("object"))
        if resource is not None and carried and event["type"].endswith(".created"):
            self.created[resource.table] += 1
        if resource is None or obj["id"] in self.objects[resource.table]:
            return
        # `customer.deleted` deletes a customer; `customer.subscription.deleted` only ends one
        deleted = event["type"] == f"{obj['object']}.deleted"
        version = event.get("api_version") or STRIPE_API_VERSION
        self.objects[resource.table][obj["id"]] = Change(obj, deleted, version, carried)


def _discount_holder(discount: StripeObject) -> StripeObject:
    """What a `customer.discount.*` event changed: the discount's subscription, or for a
    customer's own discount the customer, which shows it (or no longer does) as `discount`.
    Stripe announces a discount removed from a customer with that event alone."""
    subscription = discount.get("subscription")
    if subscription:
        return {"id": _id_of(subscription), "object": "subscription"}
    return {"id": _id_of(discount["customer"]), "object": "customer"}


def _id_of(reference: str | StripeObject) -> str:
    """An expandable field's id, expanded or not."""
    return reference if isinstance(reference, str) else reference["id"]


def data_origin(api_key: str) -> str:
    """Whose data a key reads, as far as the key tells: the sandbox's, or Stripe's test or live
    mode (two accounts in one mode look alike)."""
    if api_key == SANDBOX_API_KEY:
        return "the built-in sandbox"
    return f"Stripe's {'live' if '_live_' in api_key else 'test'} mode"


def mixed_origins(landed_from: str | None, origin: str) -> str | None:
    """Why a key reading `origin` must not sync into a landing zone holding data read from
    `landed_from` (None: nothing yet), in one sentence; None when it may."""
    if landed_from is None or landed_from == origin:
        return None
    return (
        f"The landing zone holds data read from {landed_from}, but STRIPE_API_KEY reads "
        f"{origin}: give each its own LANDING_BUCKET_URL and DUCKDB_PATH (`make clean` drops "
        "what the sandbox left in data/), so the two never mix in raw."
    )


class StripeSync:
    """Decides, per run, what to read from Stripe and where the cursors move to."""

    def __init__(
        self,
        client: StripeClient,
        resources: tuple[StripeResource, ...],
        start: datetime | None,
        origin: str,  # data_origin of the key
    ):
        self.client = client
        self.resources = resources
        self.selected = frozenset(resource.table for resource in resources)
        self.start = start
        self.origin = origin
        self.report = SyncReport()
        self.tracker = ReferenceTracker()
        self._planned, self._changes = False, None
        # tables that read events from `_changes`; the others list in full (their cursor left
        # Stripe's window: `fallback`, or they have none yet)
        self.incremental: set[str] = set()
        self.fallback: set[str] = set()
        self.relisted: set[str] = set()  # listed in full for what a full list references
        # incremental tables that first list what a failed run's list of them had left
        self.resumed: set[str] = set()
        self.cut_short: set[str] = set()  # tables this run failed to read to the end
        self.failure: StripeApiError | None = None  # the error that cut this run short
        self._lists: dict[str, CreatedWindows] = {}  # the windowed list each table is reading
        self._listed: Counter[str] = Counter()  # objects each table's full list has listed
        self._newest_created: dict[str, int] = {}  # per immutable table, the newest read
        self._cursors_before: dict[str, dict | None] = {}  # events cursors before this run
        self._state: dict | None = None
        self._bounds: list[tuple[int, int | None]] | None = None
        self.started_at = datetime.now(UTC)
        self._plan_lock = threading.Lock()
        self._reading = sum(resource.sync != "child" for resource in resources)
        # ids to retrieve one by one: this run's and any a killed run left (see _finished_reading)
        self.unlisted: dict[str, list[str]] = {}

    def source(self) -> DltSource:
        return _stripe_api_source(self)

    def rows(self, resource: StripeResource) -> Iterator[list[StripeObject]]:
        """A resource's rows for this run; decided during extraction, where dlt's state is."""
        state = dlt.current.source_state()
        changes = self._plan_once(state)
        try:
            if resource.table in self.resumed:
                yield from self._resume(resource, state)
            yield from self._read(resource, state, changes)
            if resource.table in self.resumed:
                self.report.modes[resource.table] = "resumed"
        except StripeApiError as error:
            self._cut_short(resource, state, error)
        self._finished_reading(state)

    def _cut_short(self, resource: StripeResource, state: dict, error: StripeApiError) -> None:
        """A resource whose reading failed (every reader stops on the first such error): what
        it read still lands, and the state says what is left for the next run.

        A windowed list (a backfill, a full list) notes the windows it had left, so the next run
        lists only those and then applies the events since the cursor: this run's for a first or
        fallback list, which began after it was taken; the one before for a list that was to be
        followed by changes since then (relisted, resumed). Anything else (a list of changes, a
        catalog list) puts its events cursor back too, so the next run reads those changes again.
        """
        table = resource.table
        with self._plan_lock:
            self.failure = self.failure or error
            self.cut_short.add(table)
            self.tracker.fully_listed.discard(table)
            windows = self._lists.pop(table, None)
            left = state.setdefault(BACKFILL_LEFT_STATE_KEY, {})
            newest = self._newest_created.get(table)
            created_cursors = state.setdefault("created_cursors", {})
            if windows is not None and (resource.sync == "mutable" or newest or table in left):
                listed = left.get(table, {}).get("listed", 0) + self._listed[table]
                left[table] = {"windows": [list(w) for w in windows.left()], "listed": listed}
                if newest is not None:
                    created_cursors[table] = max(newest, created_cursors.get(table) or 0)
                if self.report.modes.get(table) in ("full", "fallback_full"):
                    return  # its list began after this run's events cursor: that one is kept
            if resource.reads_events:
                cursors = state[EVENTS_CURSORS_STATE_KEY]
                if (before := self._cursors_before.get(table)) is not None:
                    cursors[table] = before
                else:
                    cursors.pop(table, None)
            if not left:
                state.pop(BACKFILL_LEFT_STATE_KEY)

    def _resume(self, resource: StripeResource, state: dict) -> Iterator[list[StripeObject]]:
        """List the windows a failed run's list of this table had left; the table then reads
        the events since its cursor like any incremental one."""
        left = state[BACKFILL_LEFT_STATE_KEY][resource.table]
        self.report.modes[resource.table] = "resumed"  # what its children's rows report
        if resource.sync == "mutable":
            self.tracker.fully_listed.add(resource.table)  # together with what the failed run read
        bounds = [(start, end) for start, end in left["windows"]]
        if bounds:  # none: the failed run had read the list to its end
            yield from self.list_pages(resource, bounds=bounds)
        with self._plan_lock:
            if resource.sync == "mutable":
                sizes = state.setdefault(TABLE_SIZES_STATE_KEY, {})
                sizes[resource.table] = left["listed"] + self._listed[resource.table]
            state[BACKFILL_LEFT_STATE_KEY].pop(resource.table)
            if not state[BACKFILL_LEFT_STATE_KEY]:
                state.pop(BACKFILL_LEFT_STATE_KEY)

    def _read(
        self, resource: StripeResource, state: dict, changes: EventChanges | None
    ) -> Iterator[list[StripeObject]]:
        if resource.table in self.relisted:  # its cursor is valid: its deletions are in changes
            yield from self.full_list(resource, "relisted", state)
            yield from self.changed(resource, _only_deletions(changes), mode="relisted")
            return
        if resource.table not in self.incremental:
            changes = None
        if resource.sync == "immutable":
            if resource.table == "events" and changes is not None:
                self.report.modes["events"] = "incremental"
                if changes.events:
                    yield _stamp(changes.events, datetime.now(UTC))
            else:
                yield from self.since_created_cursor(resource, state)
        elif resource.sync == "catalog":
            yield from self.full_list(resource, "full")
            if changes is not None:
                yield from self.changed(resource, _only_deletions(changes), mode="full")
        elif changes is not None and self.cheaper_to_list(resource, changes, state):
            yield from self.full_list(resource, "relisted", state)
            yield from self.changed(resource, _only_deletions(changes), mode="relisted")
        elif changes is not None:
            self._count_created(resource, changes, state)
            yield from self.changed(resource, changes)
        else:
            mode = "fallback_full" if resource.table in self.fallback else "full"
            yield from self.full_list(resource, mode, state)

    def _finished_reading(self, state: dict) -> None:
        """After the last resource: note in the state which ids must be retrieved one by one.

        The note is committed with this load and cleared by the load that lands those objects,
        so a run killed between the two leaves the ids to the next run instead of losing them
        (an incremental run would not find them again).
        """
        with self._plan_lock:
            self._reading -= 1
            if self._reading:
                return
            pending = state.get(UNLISTED_STATE_KEY, {})
            for table, ids in self.tracker.unlisted().items():
                pending[table] = sorted({*pending.get(table, []), *ids})
            self.unlisted = pending
            if pending:
                state[UNLISTED_STATE_KEY] = pending
            self._keep_references_to_tables_left_out(state)

    def _keep_references_to_tables_left_out(self, state: dict) -> None:
        """What this run's full lists reference in tables it did not sync, or did not read to
        the end, for their next sync (see _relist_what_full_lists_reference); a table listed in
        full has resolved its own."""
        references = state.setdefault(PENDING_REFERENCES_STATE_KEY, {})
        for table in self.tracker.fully_listed:
            references.pop(table, None)
        for resource in self.resources:
            if resource.table not in self.tracker.fully_listed | self.cut_short:
                continue
            for target in resource.references.values():
                if target not in self.selected or target in self.cut_short:
                    ids = self.tracker.referenced[target] - self.tracker.listed[target]
                    references[target] = sorted({*references.get(target, []), *ids})
        if not references:
            state.pop(PENDING_REFERENCES_STATE_KEY)

    def _plan_once(self, state: dict) -> EventChanges | None:
        with self._plan_lock:  # resources run in parallel threads; the first one plans
            if not self._planned:
                self._state = state
                self._changes, self._planned = self.plan(state), True
        return self._changes

    # -- planning (runs inside the dlt source, where its state is at hand) -------------------

    def plan(self, state: dict) -> EventChanges | None:
        """Read the events since the oldest cursor still in Stripe's window, for the resources
        whose cursor is; the others are listed in full. Every selected resource's cursor then
        moves to the newest event, read before any full list, so changes made while a list is
        read are applied next time; the cursors of resources left out stay where they were.
        """
        self._keep_to_one_origin(state)
        cursors = _events_cursors(state)
        readers = [r.table for r in self.resources if r.reads_events]
        self._cursors_before = {table: cursors.get(table) for table in readers}
        valid = {}
        for table in readers:
            cursor = cursors.get(table)
            if cursor is None:
                continue
            if cursor["id"] not in valid:
                valid[cursor["id"]] = self._still_in_events_window(cursor)
            (self.incremental if valid[cursor["id"]] else self.fallback).add(table)
        self._resume_what_failed_runs_left(state)
        changes = None
        if self.incremental:
            oldest = min((cursors[t] for t in self.incremental), key=lambda c: c["created"])
            changes = self._events_since(oldest)
            newest = _event_cursor(changes.events[0]) if changes.events else oldest
        else:
            newest = self._newest_event() if readers else None
        self._note_full_lists(cursors, readers)
        self._relist_what_full_lists_reference(state)
        if newest:
            for table in readers:
                cursors[table] = newest
                self.report.cursors[table] = _iso(newest["created"])
            self.report.cursors["events"] = _iso(newest["created"])
        return changes

    def _resume_what_failed_runs_left(self, state: dict) -> None:
        """Tables a failed run was cut short in list what it had left, then read events like
        incremental ones: those that read events only while their cursor is in Stripe's window
        (else they start over, listed in full), the others from their `created` cursor."""
        left = state.get(BACKFILL_LEFT_STATE_KEY, {})
        for table in self.selected & set(left):
            if not BY_TABLE[table].reads_events or table in self.incremental:
                self.resumed.add(table)
            else:
                left.pop(table)
        if self.resumed:
            note = f"Resuming what the last run left unread of {', '.join(sorted(self.resumed))}."
            self.report.notes.append(note)
            log.info(note)
        if BACKFILL_LEFT_STATE_KEY in state and not left:
            state.pop(BACKFILL_LEFT_STATE_KEY)

    def _relist_what_full_lists_reference(self, state: dict) -> None:
        """A table listed in full finds the deleted objects it points to (tombstones their own
        list omits) only beside a full list of their table, in the same run: so each selected
        table that a full list references is listed in full too, and what it references in a
        table left out waits in the state (PENDING_REFERENCES_STATE_KEY) for that table's next
        sync, which lists it in full."""
        pending = state.get(PENDING_REFERENCES_STATE_KEY, {})
        for table, ids in pending.items():
            if table in self.selected:
                self.tracker.referenced[table].update(ids)
        # a resumed table counts as listed in full, together with what the failed run listed
        full = [
            r.table
            for r in self.resources
            if r.sync == "mutable" and (r.table not in self.incremental or r.table in self.resumed)
        ]
        full += [table for table in pending if table in self.incremental]
        while full:
            table = full.pop()
            if table in self.incremental and table not in self.resumed:
                self.incremental.discard(table)
                self.relisted.add(table)
            full += [
                t
                for t in BY_TABLE[table].references.values()
                if t in self.incremental and t not in self.resumed
            ]

    def _note_full_lists(self, cursors: dict, readers: list[str]) -> None:
        stale = sorted(t for t in self.fallback if BY_TABLE[t].sync == "mutable")
        if stale:
            oldest = min((cursors[t] for t in stale), key=lambda c: c["created"])
            note = (
                f"The events cursor of {', '.join(stale)} ({oldest['id']}, "
                f"{_iso(oldest['created'])}) is older than Stripe's events window: listing "
                f"{'it' if len(stale) == 1 else 'them'} in full."
            )
            self.report.notes.append(note)
            log.warning(note)
        # on a landing zone's first sync every resource is new: nothing to say
        new = sorted(t for t in readers if t not in cursors and BY_TABLE[t].sync == "mutable")
        if new and cursors:
            note = (
                f"{', '.join(new)} {'is' if len(new) == 1 else 'are'} synced for the first time "
                "beside resources already synced: listing in full."
            )
            self.report.notes.append(note)
            log.info(note)

    def _keep_to_one_origin(self, state: dict) -> None:
        """One landing zone, one source of data. `make run` fills data/ from the sandbox; a user
        who then sets their own key would otherwise get the sandbox's customers merged with
        theirs in raw, and test-mode objects with live ones. Checked before any request."""
        if sentence := mixed_origins(state.setdefault("origin", self.origin), self.origin):
            raise StripeApiError(sentence)

    def _newest_event(self) -> dict | None:
        page = self.client.get("/v1/events", {"limit": 1}, resource="events")
        data = page.get("data") or []
        return _event_cursor(data[0]) if data else None

    def _still_in_events_window(self, cursor: dict) -> bool:
        return self.client.get_optional(f"/v1/events/{cursor['id']}", resource="events") is not None

    def _events_since(self, cursor: dict) -> EventChanges:
        changes = EventChanges(since=cursor["created"])
        params = {"created[gte]": cursor["created"]}
        for page in self.client.list_all("/v1/events", params, resource="events"):
            for event in page:
                changes.add(event)
        return changes

    # -- per-resource readers ------------------------------------------------------------------

    def list_pages(
        self,
        resource: StripeResource,
        params: dict | None = None,
        bounds: list[tuple[int, int | None]] | None = None,
    ) -> Iterator[list[StripeObject]]:
        """A list's pages; read in `created` windows side by side when given `bounds`, which
        are then what a failure mid-list notes as left (see `_cut_short`)."""
        query = {**resource.list_params(), **(params or {})}
        if bounds:
            windows = self._lists[resource.table] = CreatedWindows(bounds)
            pages = self.client.list_windows(resource.path, query, windows, resource=resource.table)
        else:
            pages = self.client.list_all(resource.path, query, resource=resource.table)
        for page in pages:
            self.tracker.observe(resource, page)
            if bounds:
                self._listed[resource.table] += len(page)
            yield _stamp(page, datetime.now(UTC))
        self._lists.pop(resource.table, None)

    def full_list(
        self, resource: StripeResource, mode: str, state: dict | None = None
    ) -> Iterator[list[StripeObject]]:
        self.report.modes[resource.table] = mode
        self.tracker.fully_listed.add(resource.table)
        listed = 0
        bounds = self._windows() if resource.sync != "catalog" else None
        for page in self.list_pages(resource, bounds=bounds):
            listed += len(page)
            yield page
        if state is not None:
            state.setdefault(TABLE_SIZES_STATE_KEY, {})[resource.table] = listed

    def cheaper_to_list(self, resource: StripeResource, changes: EventChanges, state: dict) -> bool:
        """Whether listing a resource again costs fewer requests than reading its stale changes
        (see `changed`): after a busy spell on a small account, a list of the whole table is."""
        stale = self._stale(resource, changes)
        size = state.get(TABLE_SIZES_STATE_KEY, {}).get(resource.table)
        if size is None:  # a landing zone from before sizes were kept: read changes, as before
            return False
        recent = _created_since(stale, changes.since)
        read_requests = len(stale) - recent + (-(-recent // PAGE_SIZE))
        list_requests = (size + changes.created[resource.table]) // PAGE_SIZE + BACKFILL_WINDOWS
        return read_requests > list_requests

    @staticmethod
    def _stale(resource: StripeResource, changes: EventChanges) -> list[Change]:
        """Changes whose object must be read again at our version: the event does not carry it
        (a discount's holder), renders it in another version (Stripe uses the account's default
        version when the event was created, older on most accounts) or holds ids we read
        expanded. Deleted objects cannot be read again."""
        return [
            change
            for change in changes.objects.get(resource.table, {}).values()
            if not change.deleted
            and (
                not change.carried
                or change.api_version != STRIPE_API_VERSION
                or resource.needs_expanding(change.obj)
            )
        ]

    def _count_created(self, resource: StripeResource, changes: EventChanges, state: dict) -> None:
        sizes = state.setdefault(TABLE_SIZES_STATE_KEY, {})
        if resource.table in sizes:
            sizes[resource.table] += changes.created[resource.table]

    def _windows(self) -> list[tuple[int, int | None]]:
        """`created` windows splitting a backfill, from the sync start (or the account's
        creation) on, the last one open-ended."""
        with self._plan_lock:
            if self._bounds is None:
                self._bounds = self._split_history()
        return self._bounds

    def _split_history(self) -> list[tuple[int, int | None]]:
        if self.start is not None:
            first = _epoch(self.start)
        else:
            account = self.client.get_optional("/v1/account", resource="account", absent=(403, 404))
            first = int((account or {}).get("created") or BEFORE_ANY_ACCOUNT)
        last = _epoch(self.started_at)
        count = max(1, min(BACKFILL_WINDOWS, (last - first) // WINDOW_MIN_SECONDS))
        edges = [first + (last - first) * i // count for i in range(count)]
        return list(zip(edges, [*edges[1:], None], strict=True))  # the last one is open-ended

    def changed(
        self, resource: StripeResource, changes: EventChanges, mode: str = "incremental"
    ) -> Iterator[list[StripeObject]]:
        """The objects events changed, each as a list at our pinned version gives it.

        Stale changes (`_stale`) are read again: those created since the last sync (most of a
        day's: new invoices, charges, payment intents) from one list filtered on `created`, a
        hundred a request, and the older ones retrieved one by one.
        """
        self.report.modes[resource.table] = mode
        extracted_at = datetime.now(UTC)
        stale = self._stale(resource, changes)
        listed: dict[str, StripeObject] = {}
        if _created_since(stale, changes.since) > 1:
            for page in self.list_pages(resource, {"created[gte]": changes.since}):
                listed.update((obj["id"], obj) for obj in page)
        stale_ids = {change.obj["id"] for change in stale}
        changed = changes.objects.get(resource.table, {}).values()

        def as_listed(change: Change) -> Change:
            object_id = change.obj["id"]
            if object_id not in stale_ids:
                return change
            obj = listed.get(object_id) or self._retrieve(resource, object_id)
            return Change(obj, False, STRIPE_API_VERSION)

        with ThreadPoolExecutor(max_workers=RETRIEVE_WORKERS) as pool:
            for change in pool.map(as_listed, changed):
                self.tracker.observe(resource, [change.obj])
                yield _stamp([dict(change.obj)], extracted_at, change.deleted, change.api_version)

    def since_created_cursor(
        self, resource: StripeResource, state: dict
    ) -> Iterator[list[StripeObject]]:
        cursors = state.setdefault("created_cursors", {})
        cursor = cursors.get(resource.table)
        self.report.modes[resource.table] = "full" if cursor is None else "incremental"
        # `gte`, not `gt`: objects created in the cursor's second may have arrived after it;
        # rows read twice are merged away by id. The first run reads the whole history (from
        # the sync start on) in created windows side by side, like a backfill.
        params = {"created[gte]": cursor} if cursor is not None else {}
        bounds = self._windows() if cursor is None else None
        newest = cursor
        for page in self.list_pages(resource, params, bounds):
            newest = max([newest or 0, *(obj["created"] for obj in page)])
            if bounds:
                self._newest_created[resource.table] = newest
            yield page
        if newest is not None:
            cursors[resource.table] = newest
            self.report.cursors[resource.table] = _iso(newest)

    def children(self, resource: StripeResource, parents: list[StripeObject]) -> list[StripeObject]:
        """A page of parents' embedded lists, each read to its end.

        A list, not a generator: dlt runs a parallelized transformer's call in its worker pool
        but would iterate a returned generator on its main thread, where a page's round trips
        would hold up every other resource. A parent whose list this run fails to finish is
        noted for the next run to retrieve, with its list, one by one.
        """
        self.report.modes[resource.table] = self.report.modes.get(resource.parent, "full")
        return self._children(resource, parents, on_failure=self._children_cut_short)

    def _children_cut_short(
        self, resource: StripeResource, parent: StripeObject, error: StripeApiError
    ) -> list[StripeObject]:
        with self._plan_lock:
            self.failure = self.failure or error
            self.cut_short.add(resource.table)
            unlisted = self._state.setdefault(UNLISTED_STATE_KEY, {})
            unlisted[resource.parent] = sorted({*unlisted.get(resource.parent, []), parent["id"]})
        return []

    def _children(
        self, resource: StripeResource, parents: list[StripeObject], on_failure=None
    ) -> list[StripeObject]:
        with_children = [
            parent
            for parent in parents
            if not parent.get("is_deleted") and parent.get(resource.embedded_field)
        ]

        def complete(parent: StripeObject) -> list[StripeObject]:
            try:
                children = self.client.complete_list(
                    parent[resource.embedded_field], resource=resource.table
                )
            except StripeApiError as error:
                if on_failure is None:
                    raise
                return on_failure(resource, parent, error)
            # copies: the parent's own row keeps its embedded list untouched
            return _stamp([dict(child) for child in children], parent["_extracted_at"])

        # lists cut at their first page are read again side by side: one by one, a page of
        # invoices with long lists waits on a round trip per invoice
        with ThreadPoolExecutor(max_workers=RETRIEVE_WORKERS) as pool:
            return [child for children in pool.map(complete, with_children) for child in children]

    def retrieve_unlisted(self, stop: threading.Event) -> dict[str, list[StripeObject]]:
        """Objects something references but their full list omitted (deleted customers,
        mostly: Stripe returns them as small tombstones; after a `STRIPE_SYNC_START`, older
        objects newer ones point to), retrieved side by side, a page's worth at a time, until
        done or `stop` is set.

        Each comes with what it owns (an invoice's lines, a charge's balance transaction), and
        what it references in turn is retrieved too when this run has not read it, so a slice
        of history holds only complete objects and every reference in it resolves.
        """
        retrieved: dict[str, list[StripeObject]] = defaultdict(list)
        seen = {table: set(ids) for table, ids in self.unlisted.items()}
        wanted = dict(self.unlisted)
        with ThreadPoolExecutor(max_workers=RETRIEVE_WORKERS) as pool:
            while wanted:
                found: dict[str, set[str]] = defaultdict(set)
                for table, ids in wanted.items():
                    resource = BY_TABLE[table]
                    for first in range(0, len(ids), PAGE_SIZE):
                        if stop.is_set():
                            return retrieved
                        chunk = ids[first : first + PAGE_SIZE]
                        page = list(pool.map(self._retrieve, repeat(resource, len(chunk)), chunk))
                        retrieved[table] += _stamp(page, datetime.now(UTC))
                        for child in self.resources:
                            if child.parent == table:
                                retrieved[child.table] += self._children(child, page)
                        for key, target in {**resource.references, **resource.owns}.items():
                            found[target].update(_ids_at(page, key))
                wanted = {}
                for table, ids in found.items():
                    new = ids - self.tracker.listed[table] - seen.setdefault(table, set())
                    if table in self.selected and new:
                        seen[table] |= new
                        wanted[table] = sorted(new)
        return retrieved

    def _retrieve(self, resource: StripeResource, object_id: str) -> StripeObject:
        path = f"{resource.path}/{object_id}"
        return self.client.get(path, resource.retrieve_params(), resource=resource.table)


def _ids_at(objects: list[StripeObject], path: str) -> set[str]:
    """The ids a field holds (not expanded objects, not nulls)."""
    return {value for obj in objects if isinstance(value := field_value(obj, path), str)}


def _created_since(changes: list[Change], since: int) -> int:
    """How many of the changed objects were created at `since` or later (a list filtered on
    `created` returns them a hundred a request); invoice items have a `date` instead."""
    return sum((c.obj.get("created") or c.obj.get("date") or 0) >= since for c in changes)


def _events_cursors(state: dict) -> dict[str, dict]:
    """The per-resource events cursors; a landing zone from before they existed had one cursor
    for every resource, which each takes as its own."""
    cursors = state.setdefault(EVENTS_CURSORS_STATE_KEY, {})
    old = state.pop(OLD_EVENTS_CURSOR_KEY, None)
    if old is not None and not cursors:
        cursors.update((r.table, old) for r in BY_TABLE.values() if r.reads_events)
    return cursors


def _event_cursor(event: StripeObject) -> dict:
    return {"id": event["id"], "created": event["created"]}


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


# New tables and fields are kept as they come; a field whose type changes stops the sync with a
# clear error (errors.py) instead of splitting into a variant column the models never read.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}


def _resource_options(resource: StripeResource) -> dict:
    return {
        "name": resource.table,
        "write_disposition": "append",
        "columns": column_hints(resource),
        "schema_contract": SCHEMA_CONTRACT,
        # resources page through Stripe side by side, under the client's shared request budget
        "parallelized": True,
    }


@dlt.source(name="stripe", max_table_nesting=0)
def _stripe_api_source(sync: StripeSync) -> Iterator[DltResource]:
    parents: dict[str, DltResource] = {}
    for resource in sync.resources:
        if resource.sync == "child":
            rows = dlt.transformer(
                lambda pages, resource=resource: sync.children(resource, pages),
                data_from=parents[resource.parent],
                **_resource_options(resource),
            )
        else:
            rows = dlt.resource(sync.rows(resource), **_resource_options(resource))
        parents[resource.table] = rows
        yield rows


def _only_deletions(changes: EventChanges) -> EventChanges:
    """Catalog resources are listed in full; from events they need only what was deleted."""
    kept = EventChanges(since=changes.since)
    for table, objects in changes.objects.items():
        kept.objects[table] = {i: change for i, change in objects.items() if change.deleted}
    return kept


@dlt.source(name="stripe", max_table_nesting=0)
def _unlisted_objects_source(objects_by_table: dict[str, list[StripeObject]]):
    """Objects retrieved by id because something references them but their list omits them."""
    for table, objects in objects_by_table.items():
        yield dlt.resource(_retrieved_pages(objects), **_resource_options(BY_TABLE[table]))


def _retrieved_pages(objects: list[StripeObject]) -> Iterator[list[StripeObject]]:
    for first in range(0, len(objects), PAGE_SIZE):
        yield objects[first : first + PAGE_SIZE]
    # they land with this load: no later run needs to retrieve them again
    dlt.current.source_state().pop(UNLISTED_STATE_KEY, None)


@contextmanager
def _dropping_packages_that_break_the_contract(pipeline: dlt.Pipeline) -> Iterator[None]:
    try:
        yield
    except PipelineStepFailed as failure:
        if any(isinstance(e, DataValidationError) for e in exception_chain(failure)):
            # The package breaks the schema contract and would fail every later run the same
            # way: drop it and rewind the cursors, so a fixed pipeline reads it again.
            pipeline.abort_packages()
        raise


def normalize_workers(pipeline: dlt.Pipeline) -> int:
    """Processes to normalize the extracted package with: several for a backfill, one otherwise.

    dlt's normalize is pure Python, ~10 s per 100,000 Stripe objects on one core, and runs
    after the last request, so a backfill's would leave the machine's other cores idle. Each
    extra process takes a few seconds and ~300 MB to start: small loads stay in this one.
    """
    packages = pipeline.list_extracted_load_packages()
    jobs = pipeline.get_load_package_info(packages[-1]).jobs["new_jobs"] if packages else []
    if sum(job.file_size for job in jobs) < PARALLEL_NORMALIZE_BYTES:
        return 1
    return max(1, min(MAX_NORMALIZE_WORKERS, os.cpu_count() or 1))


@dataclass
class LandedLoads:
    load_ids: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    normalize_processes: int = 1  # the most any of this run's loads was normalized by
    # the error that cut the sync short: what it had read is landed all the same
    failure: StripeApiError | None = None

    def extract(self, pipeline: dlt.Pipeline, source: DltSource) -> None:
        # dlt asks each parallelized resource for its next page from a pool of 5 threads by
        # default, and a resource waiting on Stripe holds its thread: with a thread per
        # resource none waits for another's round trip (transformers' extra calls share them)
        workers = max(EXTRACT_MIN_WORKERS, len(source.resources))
        with _dropping_packages_that_break_the_contract(pipeline):
            pipeline.extract(source, loader_file_format="parquet", workers=workers)

    def normalize_and_load(self, pipeline: dlt.Pipeline) -> None:
        workers = normalize_workers(pipeline)
        self.normalize_processes = max(self.normalize_processes, workers)
        with _dropping_packages_that_break_the_contract(pipeline):
            normalized = pipeline.normalize(workers=workers)
            loaded = pipeline.load()
        self.load_ids.extend(loaded.loads_ids)
        if normalized is not None:  # None: nothing was extracted
            self.rows.update(normalized.row_counts)


@contextmanager
def _rare_garbage_collections() -> Iterator[None]:
    """Parsed Stripe pages are millions of small dicts, freed by reference counting as soon as
    they are written: they never form cycles, but CPython's cycle collector, run every 700 new
    containers by default, scanned them over and over (10 to 15 s of a 70 s unthrottled
    backfill of 335,000 objects). Collections stay on, only rarer, until the sync is done."""
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_ALLOCATIONS_BETWEEN_COLLECTIONS, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def extract_to_landing(pipeline: dlt.Pipeline, sync: StripeSync) -> LandedLoads:
    """Sync what changed, then fetch what full lists left dangling; one landing load each.
    A sync cut short by an error lands what it read, and says so in `failure`.

    The dangling objects are fetched while the first load is normalized and written: one is
    round trips, the other CPU, so neither waits for the other.
    """
    with _rare_garbage_collections():
        landed = LandedLoads(load_ids=finish_interrupted_loads(pipeline))
        # what `pipeline.run()` does first: a new working folder takes its cursors from the landing
        pipeline.sync_destination()
        landed.extract(pipeline, sync.source())
        if sync.failure is not None:  # the objects to retrieve one by one wait in the state
            landed.normalize_and_load(pipeline)
            landed.failure = sync.failure
            return landed
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="unlisted") as background:
            unlisted = background.submit(sync.retrieve_unlisted, stop)
            try:
                landed.normalize_and_load(pipeline)
            except BaseException:
                stop.set()
                raise
            objects = unlisted.result()
        if objects:
            landed.extract(pipeline, _unlisted_objects_source(objects))
            landed.normalize_and_load(pipeline)
        return landed
