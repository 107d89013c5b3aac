"""Starts bqemulator 1.4.0 with two concurrency defects worked around (docs/local-stack.md).

1. Its Storage Write API handlers run on worker threads and INSERT into the one shared DuckDB
   connection while the REST API uses the same connection on the event-loop thread. Two such
   calls at once deadlock inside DuckDB (one holds the connection, the other the GIL): the
   whole emulator stops answering. Here every append's DuckDB work is handed to the event-loop
   thread, so all DuckDB access happens on one thread.
2. Each open AppendRows connection holds a worker of the event loop's default executor for
   its whole life (min(32, cores + 4) workers, 6 on 2 cores): a seventh connection waits
   forever. Here the executor has XP_BQEMU_WORKERS (default 64) workers.
3. Every write (each append, insertAll, DML statement) copies the whole table into a
   time-travel snapshot (CREATE TABLE AS SELECT *), so writes cost O(table size) and loading
   is quadratic. Nothing here uses FOR SYSTEM_TIME AS OF, so with XP_BQEMU_TIME_TRAVEL=off
   (the default) writes only publish their change event and take no snapshot.

Usage: python bqemulator_launch.py start <the usual bqemulator options>
"""

import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from bqemulator import cli, server
from bqemulator.grpc_api import write_servicer
from bqemulator.versioning import snapshots

_loop: asyncio.AbstractEventLoop | None = None
_original_start = server.EmulatorServer.start
_original_flush = write_servicer.BigQueryWriteHandler._flush_to_target


async def _start(self):  # type: ignore[no-untyped-def]
    global _loop
    _loop = asyncio.get_running_loop()
    _loop.set_default_executor(ThreadPoolExecutor(max_workers=int(os.environ.get("XP_BQEMU_WORKERS", "64"))))
    await _original_start(self)


def _flush_on_loop(self, stream, rows):  # type: ignore[no-untyped-def]
    if _loop is None or _loop.is_closed():
        return _original_flush(self, stream, rows)

    async def run():  # type: ignore[no-untyped-def]
        _original_flush(self, stream, rows)

    asyncio.run_coroutine_threadsafe(run(), _loop).result()


def _record_change_without_snapshot(self, project_id, dataset_id, table_id):  # type: ignore[no-untyped-def]
    self._events.publish(snapshots.TableDataChanged(project_id, dataset_id, table_id))
    return None


server.EmulatorServer.start = _start
if os.environ.get("XP_BQEMU_TIME_TRAVEL", "off") == "off":
    snapshots.SnapshotManager.record_change = _record_change_without_snapshot
write_servicer.BigQueryWriteHandler._flush_to_target = _flush_on_loop

if __name__ == "__main__":
    sys.argv[0] = "bqemulator"
    sys.exit(cli.main())
