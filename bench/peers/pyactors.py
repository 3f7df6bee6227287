"""Python peers of the engine benchmarks: asyncio, trio, gevent and pykka.

    python bench/peers/pyactors.py IMPL BENCH [N [K]]

IMPL is asyncio | trio | gevent | pykka; BENCH is spawn | idle | pingpong | ring | fanin.
Each implementation is the obvious idiomatic one: an actor is a task (asyncio, trio),
a greenlet (gevent) or a ThreadingActor (pykka) with its own inbox (a queue or a
memory channel). Prints "RESULT key=value ..." like the Wippy projects in bench/engine.

``idle`` follows the RSS handshake of the harness: it prints "READY before", waits for a
line on stdin, spawns N actors that block on their inbox, prints "READY after" and
waits for another line before exiting (the harness reads /proc/<pid>/status meanwhile).

Spawning goes in windows of ``WINDOW`` children (spawn a window, wait until each child
has run once and reported back), exactly like the Wippy coordinator does.
"""

from __future__ import annotations

import os
import sys
import time

WINDOW = 1000


_mark: list[float] = [0.0, 0.0, 0.0, 0.0]


def start() -> float:
    """Start a measured interval (wall and CPU time of all threads); returns perf_counter()."""
    _mark[:2] = [time.perf_counter(), time.process_time()]
    return _mark[0]


def stop() -> float:
    """End the measured interval; returns its wall seconds."""
    _mark[2:] = [time.perf_counter() - _mark[0], time.process_time() - _mark[1]]
    return _mark[2]


def result(**fields: object) -> None:
    """Print the RESULT line with the wall and CPU seconds of the measured interval."""
    fields["wall_s"] = f"{_mark[2]:.6f}"
    fields["cpu_s"] = f"{_mark[3]:.6f}"
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def handshake(tag: str) -> None:
    print(f"READY {tag}", flush=True)
    sys.stdin.readline()


def windows(n: int) -> list[int]:
    return [min(WINDOW, n - i) for i in range(0, n, WINDOW)]


# ---------------------------------------------------------------------------- asyncio


def run_asyncio(bench: str, n: int, k: int) -> None:
    import asyncio

    async def spawn(idle: bool) -> None:
        up: asyncio.Queue = asyncio.Queue()
        keep = []

        async def child() -> None:
            up.put_nowait(1)
            if idle:
                await asyncio.Queue().get()

        start()
        for w in windows(n):
            for _ in range(w):
                keep.append(asyncio.create_task(child()))
            for _ in range(w):
                await up.get()
        dt = stop()
        if idle:
            handshake("after")
            result(idle_spawn_us=f"{dt / n * 1e6:.4f}", n=n)
        else:
            result(spawn_us=f"{dt / n * 1e6:.4f}", n=n)

    async def pingpong() -> None:
        a: asyncio.Queue = asyncio.Queue()
        b: asyncio.Queue = asyncio.Queue()

        async def partner() -> None:
            while True:
                v = await b.get()
                if v is None:
                    return
                a.put_nowait(v)

        task = asyncio.create_task(partner())
        start()
        for i in range(n):
            b.put_nowait(i)
            await a.get()
        dt = stop()
        b.put_nowait(None)
        await task
        result(pingpong_rt_s=f"{n / dt:.1f}", n=n)

    async def ring() -> None:
        size, laps = n, k
        queues = [asyncio.Queue() for _ in range(size)]
        done: asyncio.Queue = asyncio.Queue()

        async def node(i: int) -> None:
            inbox, nxt = queues[i], queues[(i + 1) % size]
            while True:
                left = await inbox.get()
                if left is None:
                    return
                if left == 0:
                    done.put_nowait(1)
                else:
                    nxt.put_nowait(left - 1)

        tasks = [asyncio.create_task(node(i)) for i in range(size)]
        await asyncio.sleep(0)
        hops = size * laps
        start()
        queues[0].put_nowait(hops - 1)
        await done.get()
        dt = stop()
        for q in queues:
            q.put_nowait(None)
        await asyncio.gather(*tasks)
        result(ring_msgs_s=f"{hops / dt:.1f}", size=size, laps=laps)

    async def fanin() -> None:
        inbox: asyncio.Queue = asyncio.Queue()

        async def child() -> None:
            for i in range(k):
                inbox.put_nowait(i)

        start()
        for _ in range(n):
            asyncio.create_task(child())
        for _ in range(n * k):
            await inbox.get()
        dt = stop()
        result(fanin_msgs_s=f"{n * k / dt:.1f}", n=n, k=k)

    mains = {
        "spawn": lambda: spawn(False),
        "idle": lambda: spawn(True),
        "pingpong": pingpong,
        "ring": ring,
        "fanin": fanin,
    }
    asyncio.run(mains[bench]())


# ---------------------------------------------------------------------------- trio


def run_trio(bench: str, n: int, k: int) -> None:
    import math

    import trio

    def channel() -> tuple:
        return trio.open_memory_channel(math.inf)

    async def spawn(idle: bool) -> None:
        up_send, up_recv = channel()
        async with trio.open_nursery() as nursery:

            async def child() -> None:
                up_send.send_nowait(1)
                if idle:
                    _s, r = channel()
                    await r.receive()

            start()
            for w in windows(n):
                for _ in range(w):
                    nursery.start_soon(child)
                for _ in range(w):
                    await up_recv.receive()
            dt = stop()
            if idle:
                handshake("after")
                result(idle_spawn_us=f"{dt / n * 1e6:.4f}", n=n)
            else:
                result(spawn_us=f"{dt / n * 1e6:.4f}", n=n)
            nursery.cancel_scope.cancel()

    async def pingpong() -> None:
        a_send, a_recv = channel()
        b_send, b_recv = channel()

        async def partner() -> None:
            async for v in b_recv:
                if v is None:
                    return
                a_send.send_nowait(v)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(partner)
            start()
            for i in range(n):
                b_send.send_nowait(i)
                await a_recv.receive()
            dt = stop()
            b_send.send_nowait(None)
        result(pingpong_rt_s=f"{n / dt:.1f}", n=n)

    async def ring() -> None:
        size, laps = n, k
        chans = [channel() for _ in range(size)]
        done_send, done_recv = channel()

        async def node(i: int) -> None:
            inbox, nxt = chans[i][1], chans[(i + 1) % size][0]
            async for left in inbox:
                if left is None:
                    return
                if left == 0:
                    done_send.send_nowait(1)
                else:
                    nxt.send_nowait(left - 1)

        async with trio.open_nursery() as nursery:
            for i in range(size):
                nursery.start_soon(node, i)
            await trio.sleep(0)
            hops = size * laps
            start()
            chans[0][0].send_nowait(hops - 1)
            await done_recv.receive()
            dt = stop()
            for s, _r in chans:
                s.send_nowait(None)
        result(ring_msgs_s=f"{hops / dt:.1f}", size=size, laps=laps)

    async def fanin() -> None:
        send, recv = channel()

        async def child() -> None:
            for i in range(k):
                send.send_nowait(i)

        async with trio.open_nursery() as nursery:
            start()
            for _ in range(n):
                nursery.start_soon(child)
            for _ in range(n * k):
                await recv.receive()
            dt = stop()
        result(fanin_msgs_s=f"{n * k / dt:.1f}", n=n, k=k)

    mains = {
        "spawn": lambda: spawn(False),
        "idle": lambda: spawn(True),
        "pingpong": pingpong,
        "ring": ring,
        "fanin": fanin,
    }
    trio.run(mains[bench])


# ---------------------------------------------------------------------------- gevent


def run_gevent(bench: str, n: int, k: int) -> None:
    import gevent
    from gevent.queue import Queue

    def spawn(idle: bool) -> None:
        up = Queue()
        keep = []

        def child() -> None:
            up.put_nowait(1)
            if idle:
                Queue().get()

        start()
        for w in windows(n):
            for _ in range(w):
                keep.append(gevent.spawn(child))
            for _ in range(w):
                up.get()
        dt = stop()
        if idle:
            handshake("after")
            result(idle_spawn_us=f"{dt / n * 1e6:.4f}", n=n)
        else:
            result(spawn_us=f"{dt / n * 1e6:.4f}", n=n)

    def pingpong() -> None:
        a, b = Queue(), Queue()

        def partner() -> None:
            while True:
                v = b.get()
                if v is None:
                    return
                a.put_nowait(v)

        g = gevent.spawn(partner)
        start()
        for i in range(n):
            b.put_nowait(i)
            a.get()
        dt = stop()
        b.put_nowait(None)
        g.join()
        result(pingpong_rt_s=f"{n / dt:.1f}", n=n)

    def ring() -> None:
        size, laps = n, k
        queues = [Queue() for _ in range(size)]
        done = Queue()

        def node(i: int) -> None:
            inbox, nxt = queues[i], queues[(i + 1) % size]
            while True:
                left = inbox.get()
                if left is None:
                    return
                if left == 0:
                    done.put_nowait(1)
                else:
                    nxt.put_nowait(left - 1)

        greenlets = [gevent.spawn(node, i) for i in range(size)]
        gevent.sleep(0)
        hops = size * laps
        start()
        queues[0].put_nowait(hops - 1)
        done.get()
        dt = stop()
        for q in queues:
            q.put_nowait(None)
        gevent.joinall(greenlets)
        result(ring_msgs_s=f"{hops / dt:.1f}", size=size, laps=laps)

    def fanin() -> None:
        inbox = Queue()

        def child() -> None:
            for i in range(k):
                inbox.put_nowait(i)

        start()
        for _ in range(n):
            gevent.spawn(child)
        for _ in range(n * k):
            inbox.get()
        dt = stop()
        result(fanin_msgs_s=f"{n * k / dt:.1f}", n=n, k=k)

    mains = {
        "spawn": lambda: spawn(False),
        "idle": lambda: spawn(True),
        "pingpong": pingpong,
        "ring": ring,
        "fanin": fanin,
    }
    mains[bench]()


# ---------------------------------------------------------------------------- pykka


def run_pykka(bench: str, n: int, k: int) -> None:
    import queue
    import threading

    import pykka

    class Child(pykka.ThreadingActor):
        def __init__(self, up: queue.Queue) -> None:
            super().__init__()
            self.up = up

        def on_start(self) -> None:
            self.up.put(1)

        def on_receive(self, message: object) -> None:
            pass

    def spawn(idle: bool) -> None:
        up: queue.Queue = queue.Queue()
        refs = []
        start()
        for w in windows(n):
            for _ in range(w):
                ref = Child.start(up)
                if idle:
                    refs.append(ref)
                else:
                    ref.stop(block=False)
            for _ in range(w):
                up.get()
        dt = stop()
        if idle:
            handshake("after")
            result(idle_spawn_us=f"{dt / n * 1e6:.4f}", n=n)
        else:
            result(spawn_us=f"{dt / n * 1e6:.4f}", n=n)

    class Echo(pykka.ThreadingActor):
        def on_receive(self, message: dict) -> None:
            message["reply"].tell({"v": message["v"]})

    class Pinger(pykka.ThreadingActor):
        def __init__(self, partner: pykka.ActorRef, rounds: int, done: threading.Event) -> None:
            super().__init__()
            self.partner, self.left, self.done = partner, rounds, done

        def on_receive(self, message: dict) -> None:
            if self.left == 0:
                self.done.set()
                return
            self.left -= 1
            self.partner.tell({"v": self.left, "reply": self.actor_ref})

    def pingpong() -> None:
        done = threading.Event()
        echo = Echo.start()
        pinger = Pinger.start(echo, n, done)
        start()
        pinger.tell({"v": 0})
        done.wait()
        dt = stop()
        result(pingpong_rt_s=f"{n / dt:.1f}", n=n)

    class Node(pykka.ThreadingActor):
        def __init__(self, done: threading.Event) -> None:
            super().__init__()
            self.done = done
            self.next: pykka.ActorRef | None = None

        def on_receive(self, message: dict) -> None:
            if "next" in message:
                self.next = message["next"]
                return
            left = message["tok"]
            if left == 0:
                self.done.set()
            else:
                assert self.next is not None
                self.next.tell({"tok": left - 1})

    def ring() -> None:
        size, laps = n, k
        done = threading.Event()
        nodes = [Node.start(done) for _ in range(size)]
        for i, ref in enumerate(nodes):
            ref.tell({"next": nodes[(i + 1) % size]})
        hops = size * laps
        start()
        nodes[0].tell({"tok": hops - 1})
        done.wait()
        dt = stop()
        result(ring_msgs_s=f"{hops / dt:.1f}", size=size, laps=laps)

    class Sink(pykka.ThreadingActor):
        def __init__(self, total: int, done: threading.Event) -> None:
            super().__init__()
            self.left, self.done = total, done

        def on_receive(self, message: object) -> None:
            self.left -= 1
            if self.left == 0:
                self.done.set()

    class Sender(pykka.ThreadingActor):
        def __init__(self, sink: pykka.ActorRef) -> None:
            super().__init__()
            self.sink = sink

        def on_start(self) -> None:
            for i in range(k):
                self.sink.tell(i)
            self.actor_ref.stop(block=False)

    def fanin() -> None:
        done = threading.Event()
        sink = Sink.start(n * k, done)
        start()
        for _ in range(n):
            Sender.start(sink)
        done.wait()
        dt = stop()
        result(fanin_msgs_s=f"{n * k / dt:.1f}", n=n, k=k)

    mains = {
        "spawn": lambda: spawn(False),
        "idle": lambda: spawn(True),
        "pingpong": pingpong,
        "ring": ring,
        "fanin": fanin,
    }
    mains[bench]()


IMPLS = {"asyncio": run_asyncio, "trio": run_trio, "gevent": run_gevent, "pykka": run_pykka}


def main() -> None:
    impl, bench = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if bench == "idle":
        handshake("before")
    IMPLS[impl](bench, n, k)
    sys.stdout.flush()
    os._exit(0)  # do not wait for thousands of actors to be torn down


if __name__ == "__main__":
    main()
