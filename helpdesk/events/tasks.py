"""The task layer: side effects after a write (mail, webhooks, search upkeep, long imports)
run as tasks of Django's Tasks framework, queued when the write commits.

``django.tasks`` on Django 6, the ``django-tasks`` backport on Django 5.2; which backend
runs them is the site's ``TASKS`` setting (the database backend of ``django-tasks-db``
and its ``manage.py db_worker`` by default in the demo, RQ on Redis through
``django-tasks-rq`` for bigger sites). Define a task with ``helpdesk_task``; queue it with
``enqueue_on_commit``. Each task must be safe to run twice.

A task that raises is retried with exponential backoff (``TASK_RETRY_BACKOFF_SECONDS``
doubled per attempt, capped at ``TASK_RETRY_MAX_DELAY_SECONDS``) up to
``TASK_MAX_ATTEMPTS`` attempts in all: each attempt is its own task result, so a failed
attempt stays visible (with its traceback) where the backend shows results, e.g. the
admin's "Database tasks" of django-tasks-db. A task that raises ``PermanentFailure``
fails at once, without retries.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..conf import helpdesk_settings

try:  # Django 6+
    from django.tasks import task as _task
except ImportError:  # Django 5.2: the backport
    from django_tasks import task as _task

logger = logging.getLogger(__name__)

#: The keyword argument that carries the attempt number into a retried task.
ATTEMPT_KWARG = "_helpdesk_attempt"


def retry_delay(attempt: int) -> datetime.timedelta:
    """How long to wait before attempt ``attempt + 1``: the base doubled per attempt, capped."""
    seconds = helpdesk_settings.TASK_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
    return datetime.timedelta(seconds=min(seconds, helpdesk_settings.TASK_RETRY_MAX_DELAY_SECONDS))


class PermanentFailure(Exception):
    """Raised by a task whose failure another attempt cannot mend (bad input, e.g. a
    broken import file): the task fails at once, visibly, and is not retried."""


def helpdesk_task(func: Callable[..., Any] | None = None, *, queue_name: str = "default", priority: int = 0) -> Any:
    """Make a module-level function a task that retries itself when it raises.

    Use as ``@helpdesk_task`` or ``@helpdesk_task(queue_name="mail")``. Arguments must be
    JSON-serializable (ids, not model instances).
    """

    def decorate(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            attempt = int(kwargs.pop(ATTEMPT_KWARG, 1))
            try:
                return func(*args, **kwargs)
            except PermanentFailure:
                logger.error("Task %s failed for good (not retried).", task.module_path)
                raise
            except Exception:
                if attempt < helpdesk_settings.TASK_MAX_ATTEMPTS:
                    _schedule_retry(task, args, kwargs, attempt)
                else:
                    logger.error("Task %s failed for good after %d attempts.", task.module_path, attempt)
                raise

        task = _task(queue_name=queue_name, priority=priority)(run)
        return task

    return decorate(func) if func is not None else decorate


def _schedule_retry(task: Any, args: tuple, kwargs: dict, attempt: int) -> None:
    kwargs = {**kwargs, ATTEMPT_KWARG: attempt + 1}
    try:
        if task.get_backend().supports_defer:
            task.using(run_after=timezone.now() + retry_delay(attempt)).enqueue(*args, **kwargs)
        else:  # e.g. the immediate backend: retry at once
            task.enqueue(*args, **kwargs)
    except Exception:
        logger.exception("Could not queue a retry of task %s.", task.module_path)


class _Send:
    """What ``transaction.on_commit`` calls: queue the task, log (never raise) a failure."""

    def __init__(self, task: Any, args: tuple, kwargs: dict, key: Any = None) -> None:
        self.task, self.args, self.kwargs, self.key = task, args, kwargs, key

    def __call__(self) -> None:
        try:
            self.task.enqueue(*self.args, **self.kwargs)
        except Exception:
            logger.exception("Could not queue task %s.", self.task.module_path)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one).

    A backend that cannot take the task is logged, never raised: the write has happened.
    """
    transaction.on_commit(_Send(task, args, kwargs))


def enqueue_once_on_commit(key: Any, task: Any, *args: Any, **kwargs: Any) -> None:
    """``enqueue_on_commit``, but once per transaction for ``key``: a second call with the
    same key before the commit queues nothing more (e.g. an admin form saving a calendar
    and its ten holidays queues one refresh, not eleven)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        for entry in getattr(connection, "run_on_commit", ()):
            sids, func = entry[0], entry[1]
            # Only one that lives as long as ours would: queued in this savepoint or an outer one.
            if isinstance(func, _Send) and func.key == key and set(sids) <= current:
                return
    transaction.on_commit(_Send(task, args, kwargs, key))
