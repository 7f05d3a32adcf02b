"""RQ on the machine's Redis for the tests: the settings that switch the task layer to
django-tasks-rq, and a real RQ worker run in this process until the queue is drained."""

from __future__ import annotations

import os
import time

import pytest

#: Redis database 5 of 127.0.0.1:6379 (the events tests own databases 5-9 there).
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_or_skip():
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return connection


def rq_settings(settings):
    """Only settings change: the task layer runs on RQ from here on."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}


def run_rq_worker(timeout: float = 20) -> None:
    """A real RQ worker (``SimpleWorker``: runs jobs in this process, on this database
    connection) in burst mode, again until nothing is queued or due within a second."""
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    queue = django_rq.get_queue("default", job_class=Job)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
        worker.work(burst=True, with_scheduler=False)
        scheduled = ScheduledJobRegistry(queue=queue)
        soon = scheduled.get_jobs_to_enqueue(time.time() + 1)  # later ones (watchdogs) are left
        if not soon and not queue.count:
            return
        # Move the due scheduled jobs (retries) to the queue, as the scheduler would.
        for job_id in scheduled.get_jobs_to_enqueue(time.time() + 0.001):
            queue.enqueue_job(queue.fetch_job(job_id))
            scheduled.remove(job_id)
        if not queue.count:
            time.sleep(0.2)
    raise AssertionError("the RQ queue did not drain")
