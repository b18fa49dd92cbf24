"""A lock that processes sharing this project's files take turns under."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold `path` (created if missing) alone among processes and threads until the block ends.

    An flock belongs to the open file, so a thread of the same process waits too, and the
    kernel releases it when its holder dies, however it dies: a killed run never leaves it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
