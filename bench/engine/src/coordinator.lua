-- Coordinator of one benchmark: runs on a process host (so that the processes it
-- spawns are placed next to it) and sends its figures to the terminal process.

local time = require("time")

local function now() return time.now():unix_nano() end
local clock = os.clock

-- wall and CPU seconds of a measured interval (CPU: the whole OS process, all threads;
-- the harness uses it to show figures per CPU-second on a loaded machine)
local function span(t0, c0) return string.format(" wall_s=%.6f cpu_s=%.6f", (now() - t0) / 1e9, clock() - c0) end

local HOST = "app:procs"
local CHILD = "app:child"

local function wait_topic(inbox, topic, count)
    local got = 0
    while got < count do
        local m = inbox:receive()
        if m:topic() == topic then got = got + 1 end
    end
end

-- spawn in windows of WINDOW children: spawn a window, then wait until every child of
-- it has run once and reported back (the peers in bench/peers do the same)
local WINDOW = 1000

local function spawn_windows(n, mode, host)
    local inbox = process.inbox()
    local me = process.pid()
    local spawn = process.spawn
    local calls = 0
    local left = n
    while left > 0 do
        local w = left < WINDOW and left or WINDOW
        local c0 = now()
        for _ = 1, w do
            local pid, err = spawn(CHILD, host or HOST, mode, me)
            if not pid then error(err) end
        end
        calls = calls + (now() - c0)
        wait_topic(inbox, "up", w)
        left = left - w
    end
    return calls
end

local function bench_spawn(n, host)
    local t0, c0 = now(), clock()
    local calls = spawn_windows(n, "exit", host)
    local t1 = now()
    return string.format("spawn_us=%.4f spawn_call_us=%.4f n=%d", (t1 - t0) / 1000 / n, calls / 1000 / n, n)
        .. span(t0, c0)
end

local function bench_idle(n)
    local t0, c0 = now(), clock()
    spawn_windows(n, "idle")
    local t1 = now()
    return string.format("idle_spawn_us=%.4f n=%d", (t1 - t0) / 1000 / n, n) .. span(t0, c0)
end

local function bench_pingpong(n)
    local inbox = process.inbox()
    local partner = process.spawn(CHILD, HOST, "pong")
    local send = process.send
    -- warm up
    for i = 1, 100 do
        send(partner, "ping", i)
        inbox:receive()
    end
    local t0, c0 = now(), clock()
    for i = 1, n do
        send(partner, "ping", i)
        inbox:receive()
    end
    local t1 = now()
    local sp = span(t0, c0)
    send(partner, "stop", 0)
    return string.format("pingpong_rt_s=%.1f n=%d", n / ((t1 - t0) / 1e9), n) .. sp
end

local function bench_ring(size, laps, host)
    local inbox = process.inbox()
    local me = process.pid()
    local pids = {}
    for i = 1, size do pids[i] = process.spawn(CHILD, host or HOST, "ring", me) end
    for i = 1, size do process.send(pids[i], "next", pids[i % size + 1]) end
    local hops = size * laps
    local t0, c0 = now(), clock()
    process.send(pids[1], "tok", hops - 1)
    wait_topic(inbox, "done", 1)
    local t1 = now()
    local sp = span(t0, c0)
    -- (the next measurement starts when this ring is gone: 1,000 processes ending on
    -- another worker would run beside it)
    for i = 1, size do process.send(pids[i], "stop", 0) end
    wait_topic(inbox, "bye", size)
    return string.format("ring_msgs_s=%.1f size=%d laps=%d", hops / ((t1 - t0) / 1e9), size, laps) .. sp
end

local function bench_fanin(n, k)
    local inbox = process.inbox()
    local me = process.pid()
    local spawn = process.spawn
    local t0, c0 = now(), clock()
    for _ = 1, n do spawn(CHILD, HOST, "fanin", me, k) end
    wait_topic(inbox, "m", n * k)
    local t1 = now()
    return string.format("fanin_msgs_s=%.1f n=%d k=%d", n * k / ((t1 - t0) / 1e9), n, k) .. span(t0, c0)
end

local function bench_cpu(host, n)
    local inbox = process.inbox()
    local me = process.pid()
    local t0 = now()
    process.spawn(CHILD, host, "cpu", me, n)
    process.spawn(CHILD, host, "cpu", me, n)
    wait_topic(inbox, "cpu", 2)
    return string.format("cpu_s=%.4f", (now() - t0) / 1e9)
end

-- where the time of one message goes, inside one process (diagnostics for README)
local function bench_micro(n)
    local out = {}
    -- 1. two tasks of this process hand a value back and forth over channels
    local c1, c2 = channel.new(0), channel.new(0)
    coroutine.spawn(function()
        for _ = 1, n do c2:send(c1:receive()) end
    end)
    local t0 = now()
    for i = 1, n do
        c1:send(i)
        c2:receive()
    end
    out[#out + 1] = string.format("chan_rt_us=%.3f", (now() - t0) / 1000 / n)
    -- 2. send to self and receive it (process.send, inbox, message object)
    local inbox = process.inbox()
    local me = process.pid()
    t0 = now()
    for i = 1, n do
        process.send(me, "x", i)
        inbox:receive():payload():data()
    end
    out[#out + 1] = string.format("self_msg_us=%.3f", (now() - t0) / 1000 / n)
    -- 3. the same with 1,000 messages already waiting in the inbox (the receiver is busy)
    for i = 1, 1000 do process.send(me, "x", i) end
    t0 = now()
    for i = 1, n do
        process.send(me, "x", i)
        inbox:receive()
    end
    out[#out + 1] = string.format("self_msg_backlog1000_us=%.3f", (now() - t0) / 1000 / n)
    for _ = 1, 1000 do inbox:receive() end
    -- 4. bare coroutine resume/yield in Lua
    local co = coroutine.wrap(function()
        while true do coroutine.yield(1) end
    end)
    t0 = now()
    for _ = 1, n do co() end
    out[#out + 1] = string.format("resume_us=%.3f", (now() - t0) / 1000 / n)
    return table.concat(out, " ")
end

local function main(terminal, kind, a, b)
    local line
    if kind == "spawn" then line = bench_spawn(a, b)
    elseif kind == "idle" then line = bench_idle(a)
    elseif kind == "pingpong" then line = bench_pingpong(a)
    elseif kind == "ring" then
        -- on this host (placement decides the shards), then on a one-shard host; the
        -- figure of the table first, as the peers measure theirs (bench/README.md,
        -- session 9)
        line = bench_ring(a, b)
        local one = (bench_ring(a, b, "app:single"):gsub("ring_msgs_s=", "ring1_msgs_s="):gsub(" wall_s=.*", ""))
        line = line .. " " .. (one:gsub(" size=.*", ""))
    elseif kind == "fanin" then line = bench_fanin(a, b)
    elseif kind == "cpu" then line = bench_cpu(a, b)
    elseif kind == "micro" then line = bench_micro(a)
    else error("unknown benchmark " .. tostring(kind)) end
    process.send(terminal, "result", line)
end

return { main = main }
