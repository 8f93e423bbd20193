"""`kernel.read_ahead`: the next item is produced in a thread of its own while the caller
works on this one; order, errors and early stops behave as a plain generator's."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from kernel.read_ahead import read_ahead


def test_items_arrive_in_order_and_all_of_them():
    assert list(read_ahead(lambda: (i for i in range(1000)))) == list(range(1000))
    assert list(read_ahead(lambda: (i for i in ()))) == []


def test_the_next_item_is_produced_while_the_caller_holds_this_one():
    second_made = threading.Event()

    def produce() -> Iterator[int]:
        yield 1
        yield 2
        second_made.set()
        yield 3

    items = read_ahead(produce)
    assert next(items) == 1
    # The caller has not asked for 2 yet: it is made (and 3 waits on a full queue).
    assert second_made.wait(timeout=5)
    assert list(items) == [2, 3]


def test_the_producer_runs_start_to_end_in_one_thread_of_its_own():
    threads: list[int] = []

    def produce() -> Iterator[int]:
        try:
            for i in range(5):
                threads.append(threading.get_ident())
                yield i
        finally:
            threads.append(threading.get_ident())

    assert list(read_ahead(produce)) == [0, 1, 2, 3, 4]
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()


def test_an_error_in_the_producer_is_raised_to_the_caller_after_what_came_before():
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("database went away")

    items = read_ahead(produce)
    assert next(items) == 1
    with pytest.raises(ValueError, match="database went away"):
        next(items)


def test_a_caller_that_stops_early_closes_the_producer_and_waits_for_it():
    closed = threading.Event()
    made: list[int] = []

    def produce() -> Iterator[int]:
        try:
            for i in range(10_000):
                made.append(i)
                yield i
        finally:
            closed.set()

    items = read_ahead(produce)
    assert next(items) == 0
    items.close()  # what a stream does when the client hangs up
    assert closed.is_set()  # closed before close() returned: nothing left running
    assert len(made) <= 3  # it read at most one item ahead of what was taken
