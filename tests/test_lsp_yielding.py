"""lsp_server.yielding: a background unit starts in a quiet moment between requests, and never waits
longer than its bound."""

from __future__ import annotations

import threading

from lsp_server.yielding import Requests


def test_a_unit_runs_at_once_when_no_request_is_in_flight() -> None:
    requests = Requests(gap=0.0, max_wait=30)
    assert requests.yielding(lambda x: x * 2)(21) == 42


def test_a_unit_waits_for_the_request_in_flight_to_end() -> None:
    requests = Requests(gap=0.0, max_wait=30)
    requests.begin()
    ran = threading.Event()
    worker = threading.Thread(target=requests.yielding(ran.set))
    worker.start()
    assert not ran.wait(0.3)  # still waiting: a request is in flight
    requests.end()
    worker.join(30)
    assert ran.is_set() and not worker.is_alive()


def test_a_unit_never_waits_past_its_bound() -> None:
    requests = Requests(gap=0.0, max_wait=0.2)
    requests.begin()  # a request that never ends (an editor asking continuously)
    worker = threading.Thread(target=requests.wait_quiet)
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and requests.waited >= 0.2
