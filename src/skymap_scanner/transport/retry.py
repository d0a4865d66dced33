"""The retry policy shared by every transport: what happens to a task whose attempt failed.

A failed attempt is a worker that died or ran past the task time limit while holding the task, or
a broker delivery whose holder died. The task's variations are sent again as single-variation
tasks with the next attempt number (so that one poison pixel fails alone), or, once
``max_attempts`` attempts have failed, answered by a result that reports every variation as
failed, so the scan always ends. Attempts are numbered from 1.
"""

from __future__ import annotations

from skymap_scanner.transport.messages import Failure, Result, Task


def retry_or_give_up(task: Task, failed_attempt: int, max_attempts: int, reason: str,
                     worker: str) -> tuple[list[Task], Result | None]:
    """After attempt ``failed_attempt`` of ``task`` failed: single-variation retries with the next
    attempt number (task ids ``<id>.r<attempt>.<k>``), or (attempts used up) a result from
    ``worker`` reporting every variation as failed, naming ``reason``."""
    if failed_attempt >= max_attempts:
        failures = [Failure(v.id_tuple, f"{reason} (after {failed_attempt} attempts)") for v in task.items]
        return [], Result(task.scan_id, task.task_id, worker, 0.0, [], failures)
    retries = [Task(task.scan_id, f"{task.task_id}.r{failed_attempt}.{k}", failed_attempt + 1, [item])
               for k, item in enumerate(task.items)]
    return retries, None
