import threading

from assistant.eventqueue import EventQueue


class Critical:
    pass


def test_fifo_and_timeout():
    q = EventQueue(maxsize=4)
    assert q.get(timeout=0.01) is None
    q.put("a")
    q.put("b")
    assert q.get(0.1) == "a"
    assert q.get(0.1) == "b"
    c = q.counters()
    assert (c.put, c.got, c.dropped, c.depth) == (2, 2, 0, 0)


def test_full_queue_drops_oldest_droppable_never_critical():
    q = EventQueue(maxsize=3, is_critical=lambda e: isinstance(e, Critical))
    crit = Critical()
    q.put(crit)
    q.put("level1")
    q.put("level2")
    q.put("level3")  # full: drops "level1", not the critical event
    assert q.counters().dropped == 1
    assert [q.get(0.1) for _ in range(3)] == [crit, "level2", "level3"]


def test_all_critical_grows_past_bound():
    q = EventQueue(maxsize=2, is_critical=lambda e: True)
    for i in range(3):
        q.put(i)
    assert q.counters().depth == 3
    assert q.counters().dropped == 0


def test_put_from_another_thread_wakes_getter():
    q = EventQueue()
    t = threading.Thread(target=q.put, args=("x",))
    t.start()
    assert q.get(timeout=5.0) == "x"
    t.join(5.0)
