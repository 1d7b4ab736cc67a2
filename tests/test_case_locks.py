"""The per-case locks that keep a case's updates in order (bot.delivery.publisher.CaseLocks): one case at a
time, other cases free, and nothing kept once nobody is updating a case."""

from __future__ import annotations

import threading
import time

import pytest

from bot.delivery.publisher import CaseLocks

pytestmark = pytest.mark.unit


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_a_second_update_of_the_same_case_waits_for_the_first():
    locks = CaseLocks()
    second_in = threading.Event()

    def second() -> None:
        with locks(7):
            second_in.set()

    with locks(7):
        waiter = threading.Thread(target=second)
        waiter.start()
        assert wait_until(lambda: locks.in_use() == {7: 2})  # it is waiting for this one
        assert not second_in.is_set()
    waiter.join(5)
    assert second_in.is_set()
    assert locks.in_use() == {}


def test_other_cases_do_not_wait():
    locks = CaseLocks()
    other_done = threading.Event()

    def other() -> None:
        with locks(8):
            other_done.set()

    with locks(7):
        threading.Thread(target=other).start()
        assert other_done.wait(5)


def test_no_lock_is_kept_for_cases_nobody_is_updating():
    locks = CaseLocks()
    for case_id in range(1000):
        with locks(case_id):
            assert locks.in_use() == {case_id: 1}
    assert locks.in_use() == {}


def test_a_failed_update_releases_its_case():
    locks = CaseLocks()
    with pytest.raises(RuntimeError), locks(3):
        raise RuntimeError("the Web API call failed")
    assert locks.in_use() == {}
    got = threading.Event()

    def again() -> None:
        with locks(3):
            got.set()

    threading.Thread(target=again).start()
    assert got.wait(5)
