-- The terminal side of the benchmarks: `wippy run bench/engine bench KIND ARGS...`.
-- Starts a coordinator on the process host, waits for its figures and prints them as
-- "RESULT key=value ..." (the harness parses that line).

local io = require("io")
local time = require("time")

local function now() return time.now():unix_nano() end

-- (monitored: a coordinator that fails ends the run with its error instead of a wait)
local function run_coordinator(kind, a, b, host)
    local inbox = process.inbox()
    local events = process.events()
    local pid, err = process.spawn_monitored("app:coordinator", host or "app:procs", process.pid(), kind, a, b)
    if not pid then error(err) end
    while true do
        local r = channel.select({ inbox:case_receive(), events:case_receive() })
        if r.channel == inbox then
            if r.value:topic() == "result" then return r.value:payload():data() end
        elseif r.value.kind == process.event.EXIT and r.value.from == pid then
            error("the coordinator failed: " .. tostring(r.value.result.error))
        end
    end
end

-- two CPU-bound processes spawned from outside the host (so placement spreads them)
local function cpu_pair(host, n)
    local inbox = process.inbox()
    local me = process.pid()
    local t0, c0 = now(), os.clock()
    process.spawn("app:child", host, "cpu", me, n)
    process.spawn("app:child", host, "cpu", me, n)
    local got = 0
    while got < 2 do
        local m = inbox:receive()
        if m:topic() == "cpu" then got = got + 1 end
    end
    local wall = (now() - t0) / 1e9
    return wall, (os.clock() - c0) / wall
end

local function handshake(tag)
    io.print("READY " .. tag)
    io.flush()
    io.readline()
end

local function main(kind, a, b)
    local n1 = tonumber(a)
    local n2 = tonumber(b)
    local line
    if kind == "idle" then
        handshake("before")
        line = run_coordinator("idle", n1)
        handshake("after")
    elseif kind == "cpu" then
        -- warm both hosts (first chunk load), then measure
        cpu_pair("app:one_worker", 1000)
        cpu_pair("app:two_workers", 1000)
        -- cores used = process CPU seconds / wall seconds (shows when the machine did not
        -- give this process two cores)
        local t1, cores1 = cpu_pair("app:one_worker", n1)
        local t2, cores2 = cpu_pair("app:two_workers", n1)
        -- the pair again, spawned by a coordinator that runs on the 2-worker host itself
        local tc = run_coordinator("cpu", "app:two_workers", n1, "app:two_workers")
        line = string.format("cpu1_s=%.4f cpu2_s=%.4f cpu_ratio=%.3f cores1=%.2f cores2=%.2f coord_%s",
            t1, t2, t1 / t2, cores1, cores2, tc)
    elseif kind == "spawn" then
        -- on the process host (placement spreads the children over its two shards), then
        -- by a coordinator on a one-shard host spawning there
        local one = run_coordinator("spawn", n1, "app:single", "app:single")
        line = run_coordinator("spawn", n1) .. " spawn1_us=" .. one:match("spawn_us=([%d.]+)")
    else
        line = run_coordinator(kind, n1, n2)
    end
    io.print("RESULT " .. line)
    io.flush()
    return 0
end

return { main = main }
