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


def update_elsewhere(locks: CaseLocks, case_id: int) -> threading.Event:
    """Another thread updates the case: the event is set once it holds the case's lock."""
    inside = threading.Event()

    def update() -> None:
        with locks(case_id):
            inside.set()

    threading.Thread(target=update, daemon=True).start()
    return inside


def test_a_second_update_of_the_same_case_waits_for_the_first():
    locks = CaseLocks()
    with locks(7):
        second_in = update_elsewhere(locks, 7)
        assert wait_until(lambda: locks.in_use() == {7: 2})  # it is waiting for this one
        assert not second_in.is_set()
    assert second_in.wait(5)
    assert wait_until(lambda: locks.in_use() == {})


def test_other_cases_do_not_wait():
    locks = CaseLocks()
    with locks(7):
        assert update_elsewhere(locks, 8).wait(5)


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
    assert update_elsewhere(locks, 3).wait(5)
