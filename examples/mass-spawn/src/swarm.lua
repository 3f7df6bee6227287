-- swarm: processes are cheap; start ten thousand of them.
--
-- The bees are started in waves of WAVE. Each bee reports as soon as it
-- runs, so while a wave is being spawned its first reports are already
-- waiting in this process's "report" channel; the wave is then collected
-- before the next one starts, which keeps the backlog of unread messages
-- small. Every bee must report exactly once, with its own number, from the
-- PID it was given at spawn time.

local io = require("io")
local time = require("time")

local COUNT = 10000
local WAVE = 200

local function main(): integer
    local reports = process.listen("report")
    local me = process.pid()
    local deadline = time.after("20s")
    local started = time.now()

    local pids: {string} = {}
    local seen: {[integer]: boolean} = {}
    local distinct_pids: {[string]: boolean} = {}
    local answered, pid_count, sum = 0, 0, 0

    for first = 1, COUNT, WAVE do
        local last = math.min(first + WAVE - 1, COUNT)
        for n = first, last do
            local pid, err = process.spawn("app:bee", "app:processes", me, n)
            if not pid then
                error("spawn " .. n .. " failed: " .. tostring(err))
            end
            pids[n] = pid
            if not distinct_pids[pid] then
                distinct_pids[pid] = true
                pid_count = pid_count + 1
            end
        end
        for _ = first, last do
            local r = channel.select({ reports:case_receive(), deadline:case_receive() })
            if r.channel ~= reports then
                error("only " .. answered .. " bees reported in time")
            end
            local rep = r.value
            if seen[rep.n] then
                error("bee " .. rep.n .. " reported twice")
            end
            if rep.pid ~= pids[rep.n] then
                error("bee " .. rep.n .. " reported from " .. tostring(rep.pid) .. ", spawned as " .. pids[rep.n])
            end
            seen[rep.n] = true
            answered = answered + 1
            sum = sum + rep.square
        end
    end
    local elapsed = time.now():sub(started)

    io.print(string.format("spawned %d processes with %d distinct PIDs", COUNT, pid_count))
    io.print(string.format("%d of %d answered from their own PID", answered, COUNT))
    io.print(string.format("sum of squares 1..%d = %d (expected %d)", COUNT, sum, COUNT * (COUNT + 1) * (2 * COUNT + 1) // 6))
    io.print(string.format("took %d ms (%.1f us per process)", math.floor(elapsed:milliseconds()),
        elapsed:microseconds() / COUNT))
    return 0
end

return { main = main }
