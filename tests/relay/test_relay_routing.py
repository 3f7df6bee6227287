"""PIDs, the local Node and the three-tier Router: formats, tiers and error strings."""

from __future__ import annotations

import threading

import pytest

from wippy.pid import PID, PidFormatError, PidGen
from wippy.relay import Message, Node, Package, RelayError, Router


class Sink:
    def __init__(self) -> None:
        self.got: list[Package] = []

    def send(self, pkg: Package) -> None:
        self.got.append(pkg)


def pkg(target: str, source: str = "{node:control|0x00001}") -> Package:
    return Package(source, target, [Message("t", [1])])


# -- PID -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node", "host", "uniq"),
    [
        ("{app:processes|0x00007}", "", "app:processes", "0x00007"),
        ("{n1@app:processes|0x00007}", "n1", "app:processes", "0x00007"),
        ("{|topology}", "", "", "topology"),
        ("{app:fn#lua.3|0x0000a}", "", "app:fn#lua.3", "0x0000a"),
        ("{host|legacy|0x00002}", "", "host", "0x00002"),  # legacy three-part form
        ("  {h|u}  ", "", "h", "u"),
    ],
)
def test_pid_parse(text: str, node: str, host: str, uniq: str) -> None:
    pid = PID.parse(text)
    assert (pid.node, pid.host, pid.uniq) == (node, host, uniq)


def test_pid_str_round_trip_and_node_rule() -> None:
    assert str(PID("", "app:processes", "0x00007")) == "{app:processes|0x00007}"
    assert str(PID("n1", "app:processes", "0x00007")) == "{n1@app:processes|0x00007}"
    for s in ("{a|0x00001}", "{n@a|0x00001}", "{|topology}"):
        assert str(PID.parse(s)) == s
    assert PID.parse("{a|1}") == PID("", "a", "1")
    assert len({PID("", "a", "1"), PID("", "a", "1")}) == 1
    with pytest.raises(AttributeError):
        PID("", "a", "1").host = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app|0x1", "invalid pid format: missing braces"),
        ("{app|0x1", "invalid pid format: missing braces"),
        ("", "invalid pid format: missing braces"),
        ("{app:0x1}", "invalid pid format: missing pipe"),
    ],
)
def test_pid_parse_errors(text: str, message: str) -> None:
    with pytest.raises(PidFormatError) as ei:
        PID.parse(text)
    assert str(ei.value) == message


def test_pidgen_blocks_for_shards_never_overlap_single_ids() -> None:
    gen = PidGen()
    assert gen.next_uniq() == "0x00001"
    assert gen.reserve(1024) == 2  # a shard numbers 2..1025 itself
    assert gen.next_uniq() == "0x00402"
    assert gen.reserve(8) == 0x403


def test_pidgen_format_and_threads() -> None:
    gen = PidGen()
    assert gen.next_uniq() == "0x00001"
    assert str(gen.new("app:processes")) == "{app:processes|0x00002}"
    assert PidGen(start=0xFFFFF).next_uniq() == "0xfffff"
    assert PidGen(start=0x100000).next_uniq() == "0x100000"
    assert str(PidGen(node="n2").new("h")) == "{n2@h|0x00001}"

    gen = PidGen()
    out: list[list[str]] = [[] for _ in range(4)]

    def run(i: int) -> None:
        out[i].extend(gen.next_uniq() for _ in range(5000))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [u for chunk in out for u in chunk]
    assert len(set(everything)) == 20000
    assert {int(u, 16) for u in everything} == set(range(1, 20001))


# -- Node ----------------------------------------------------------------------------------


def test_node_routes_to_registered_host_synchronously() -> None:
    node = Node("local")
    sink = Sink()
    node.register("app:processes", sink)
    p = pkg("{app:processes|0x00009}")
    node.send(p)
    assert sink.got == [p]
    node.send(pkg("{local@app:processes|0x00009}"))  # own node ID spelled out
    assert len(sink.got) == 2


def test_node_errors() -> None:
    node = Node("local")
    node.register("h", Sink())
    with pytest.raises(RelayError, match="^host already exists$"):
        node.register("h", Sink())
    with pytest.raises(RelayError, match="^host not found$"):
        node.send(pkg("{nope|0x00001}"))
    with pytest.raises(RelayError, match="^cannot route to external node$"):
        node.send(pkg("{other@h|0x00001}"))
    with pytest.raises(RelayError, match="missing braces"):
        node.send(pkg("h|0x1"))
    assert node.unregister("h")
    assert not node.unregister("h")
    with pytest.raises(RelayError, match="^host not found$"):
        node.send(pkg("{h|0x00001}"))


# -- Router --------------------------------------------------------------------------------


def test_router_tiers_in_order() -> None:
    node = Node("n1")
    local, peer, inter = Sink(), Sink(), Sink()
    node.register("app:processes", local)
    router = Router(node)
    router.register_peer("temporal", peer)

    router.send(pkg("{app:processes|0x00001}"))
    router.send(pkg("{n1@app:processes|0x00002}"))
    router.send(pkg("{temporal@wf|0x00003}"))
    with pytest.raises(RelayError, match="^node not found$"):
        router.send(pkg("{n2@app:processes|0x00004}"))
    router.set_internode(inter)
    router.send(pkg("{n2@app:processes|0x00004}"))
    assert [p.target for p in local.got] == ["{app:processes|0x00001}", "{n1@app:processes|0x00002}"]
    assert [p.target for p in peer.got] == ["{temporal@wf|0x00003}"]
    assert [p.target for p in inter.got] == ["{n2@app:processes|0x00004}"]
    # local tier errors are the Node's
    with pytest.raises(RelayError, match="^host not found$"):
        router.send(pkg("{n1@missing|0x00001}"))
    assert router.route("{temporal@x|1}") is peer


def test_router_peer_registration_rules() -> None:
    router = Router(Node("n1"))
    with pytest.raises(RelayError, match="^peer node conflicts with local node$"):
        router.register_peer("n1", Sink())
    router.register_peer("p", Sink())
    with pytest.raises(RelayError, match="^peer already exists$"):
        router.register_peer("p", Sink())
    assert router.unregister_peer("p")
    with pytest.raises(RelayError, match="^node not found$"):
        router.send(pkg("{p@h|1}"))
