"""Shared by the end-to-end tests of hostile input: a real prefork worker with the test hooks on,
and the uploads they send it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import WorkerProcess, purge_broker


@pytest.fixture
def hooked_worker(storage_dirs, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """``hooked_worker(name, **env)``: a Celery worker started with the test hooks on
    (``TA_TEST_HOOKS``, see ``archive.services.processing._test_hooks``) and ``env`` added,
    ready to consume; stopped after the test.

    Prefork, as in production: Celery enforces time limits only in a pool's child processes,
    and only there does a child killed by a hook (as by the OOM killer) leave its main process
    serving. The queues are purged first, so the worker sees only this test's work.
    """
    started: list[WorkerProcess] = []

    def start(name: str, **env: str) -> WorkerProcess:
        purge_broker()
        worker = WorkerProcess(
            storage_dirs,
            tmp_path / f"{name}-worker.log",
            name=f"{name}@tests",
            pool="prefork",
            extra_env={"TA_TEST_HOOKS": "1", **env},
        )
        started.append(worker)
        return worker.start().wait_ready()

    yield start
    for worker in started:
        worker.stop()
