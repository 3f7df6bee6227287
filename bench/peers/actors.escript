#!/usr/bin/env escript
%% Erlang peer of the engine benchmarks (used by bench/run only when erl/escript are on
%% PATH). Same protocol as bench/peers/pyactors.py:
%%     escript bench/peers/actors.escript spawn|idle|pingpong|ring|fanin|cpu N [K]
%% prints "RESULT key=value ... wall_s=W cpu_s=C".
%% NOTE: written without an Erlang installation at hand (none on the build machine).
%%! +P 2000000
-mode(compile).

main([Bench | Rest]) ->
    run(Bench, [list_to_integer(A) || A <- Rest]),
    halt(0).

start() -> {erlang:monotonic_time(microsecond), cpu_ms()}.

stop({T0, C0}) ->
    {(erlang:monotonic_time(microsecond) - T0) / 1.0e6, (cpu_ms() - C0) / 1000.0}.

cpu_ms() ->
    {Ms, _} = statistics(runtime),
    Ms.

result(Fields, {Wall, Cpu}) ->
    io:format("RESULT ~s wall_s=~.6f cpu_s=~.6f~n", [Fields, Wall, Cpu]).

ready(Tag) ->
    io:format("READY ~s~n", [Tag]),
    io:get_line("").

%% spawn in windows of 1000 children, each reports once (as the Wippy coordinator does)
spawn_windows(0, _Mode) -> ok;
spawn_windows(N, Mode) ->
    W = min(N, 1000),
    Me = self(),
    [spawn(fun() -> child(Mode, Me) end) || _ <- lists:seq(1, W)],
    wait_up(W),
    spawn_windows(N - W, Mode).

wait_up(0) -> ok;
wait_up(K) -> receive up -> wait_up(K - 1) end.

child(exit, P) -> P ! up;
child(idle, P) -> P ! up, receive stop -> ok end.

pong() ->
    receive
        {From, V} -> From ! V, pong();
        stop -> ok
    end.

ping(_, 0) -> ok;
ping(P, K) -> P ! {self(), K}, receive K -> ping(P, K - 1) end.

ring_node(P, Next) ->
    receive
        {next, N} -> ring_node(P, N);
        {tok, 0} -> P ! done, ring_node(P, Next);
        {tok, L} -> Next ! {tok, L - 1}, ring_node(P, Next);
        stop -> ok
    end.

recv_m(0) -> ok;
recv_m(X) -> receive {m, _} -> recv_m(X - 1) end.

cpu_loop(0, Acc) -> Acc;
cpu_loop(I, Acc) -> cpu_loop(I - 1, (Acc + I * I) rem 1000003).

cpu_pair(N) ->
    Me = self(),
    T0 = erlang:monotonic_time(microsecond),
    [spawn(fun() -> Me ! {cpu, cpu_loop(N, 0)} end) || _ <- [1, 2]],
    [receive {cpu, _} -> ok end || _ <- [1, 2]],
    (erlang:monotonic_time(microsecond) - T0) / 1.0e6.

run("spawn", [N]) ->
    T = start(),
    spawn_windows(N, exit),
    S = stop(T),
    result(io_lib:format("spawn_us=~.4f n=~p", [element(1, S) * 1.0e6 / N, N]), S);
run("idle", [N]) ->
    ready("before"),
    T = start(),
    spawn_windows(N, idle),
    S = stop(T),
    ready("after"),
    result(io_lib:format("idle_spawn_us=~.4f n=~p", [element(1, S) * 1.0e6 / N, N]), S);
run("pingpong", [N]) ->
    P = spawn(fun pong/0),
    T = start(),
    ping(P, N),
    S = stop(T),
    P ! stop,
    result(io_lib:format("pingpong_rt_s=~.1f n=~p", [N / element(1, S), N]), S);
run("ring", [Size, Laps]) ->
    Me = self(),
    Pids = [spawn(fun() -> ring_node(Me, undefined) end) || _ <- lists:seq(1, Size)],
    [First | More] = Pids,
    lists:foreach(fun({A, B}) -> A ! {next, B} end, lists:zip(Pids, More ++ [First])),
    Hops = Size * Laps,
    T = start(),
    First ! {tok, Hops - 1},
    receive done -> ok end,
    S = stop(T),
    [P ! stop || P <- Pids],
    result(io_lib:format("ring_msgs_s=~.1f size=~p laps=~p", [Hops / element(1, S), Size, Laps]), S);
run("fanin", [N, K]) ->
    Me = self(),
    T = start(),
    [spawn(fun() -> [Me ! {m, I} || I <- lists:seq(1, K)] end) || _ <- lists:seq(1, N)],
    recv_m(N * K),
    S = stop(T),
    result(io_lib:format("fanin_msgs_s=~.1f n=~p k=~p", [N * K / element(1, S), N, K]), S);
run("cpu", [N]) ->
    Online = erlang:system_info(schedulers_online),
    erlang:system_flag(schedulers_online, 1),
    T1 = cpu_pair(N),
    erlang:system_flag(schedulers_online, min(2, erlang:system_info(schedulers))),
    T2 = cpu_pair(N),
    erlang:system_flag(schedulers_online, Online),
    io:format("RESULT cpu1_s=~.4f cpu2_s=~.4f cpu_ratio=~.3f~n", [T1, T2, T1 / T2]).
