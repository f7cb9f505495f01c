"""A thread pool for fetches: a priority queue, and a caller that needs a queued task runs it itself.

The resolver asks for one thing at a time while hundreds of speculative fetches are queued. With a
plain FIFO pool the question waits behind all of them; here the question's task either already runs
(the caller waits for it), or is still queued, and then the caller takes it off the queue and runs it
in its own thread. Tasks are ordered by priority (lower first), then by submission order, and a task
can be moved up (`promote`) when what was speculation becomes something the resolver will ask next.

Workers start lazily, up to `workers`; with `workers=0` nothing runs in the background and every task
runs when someone waits for it (the offline mode: no network latency to hide, and no threads
contending for the GIL).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_QUEUED, _TAKEN = 0, 1


class Task(Generic[T]):
    __slots__ = ("future", "fn", "args", "state", "priority")

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], priority: int) -> None:
        self.future: Future[T] = Future()
        self.fn = fn
        self.args = args
        self.state = _QUEUED
        self.priority = priority

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn(*self.args)
        except BaseException as e:  # delivered to whoever waits
            self.future.set_exception(e)
        else:
            self.future.set_result(result)


class PriorityPool:
    def __init__(self, workers: int, name: str = "pool") -> None:
        self.max_workers = workers
        self.name = name
        self._heap: list[tuple[int, int, Task[Any]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any, priority: int = 0) -> Task[T]:
        task: Task[T] = Task(fn, args, priority)
        with self._cond:
            if self._closed:
                raise RuntimeError("pool is shut down")
            heapq.heappush(self._heap, (priority, next(self._seq), task))
            if self._idle:
                self._cond.notify()
            elif len(self._threads) < self.max_workers:
                t = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
        return task

    def promote(self, task: Task[Any], priority: int) -> None:
        """Move a queued task up to `priority` (a no-op when it already runs or ranks higher)."""
        with self._cond:
            if task.state == _QUEUED and priority < task.priority:
                task.priority = priority
                heapq.heappush(self._heap, (priority, next(self._seq), task))  # the old entry is skipped

    def wait(self, task: Task[T]) -> T:
        """The task's result; runs it in this thread when no worker has started it yet."""
        with self._cond:
            mine = task.state == _QUEUED
            task.state = _TAKEN
        if mine:
            task.run()
        return task.future.result()

    def queued(self) -> int:
        with self._cond:
            return sum(1 for _p, _s, t in self._heap if t.state == _QUEUED)

    def _work(self) -> None:
        while True:
            with self._cond:
                task = None
                while task is None:
                    while self._heap and self._heap[0][2].state != _QUEUED:
                        heapq.heappop(self._heap)
                    if self._heap:
                        task = heapq.heappop(self._heap)[2]
                        task.state = _TAKEN
                    elif self._closed:
                        return
                    else:
                        self._idle += 1
                        self._cond.wait()
                        self._idle -= 1
            task.run()

    def shutdown(self) -> None:
        """Cancel what is queued and wait for the running tasks."""
        with self._cond:
            self._closed = True
            for _p, _s, t in self._heap:
                if t.state == _QUEUED:
                    t.state = _TAKEN
                    t.future.cancel()
            self._heap.clear()
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
