-- dispatcher: a pool of workers counting the primes below 16000.
--
-- The numbers are cut into JOBS ranges. Workers pull work: each "ready"
-- message (maybe carrying the result of the previous job) is answered with
-- the next range, or with a stop order once every range is handed out.
-- Results come back in any order; they are stored by job id and printed in
-- order at the end.

local io = require("io")
local time = require("time")

local HOST = "app:processes"
local WORKERS = 4
local JOBS = 8
local RANGE = 2000

local function main(): integer
    process.set_options({ trap_links = true })
    local events = process.events()
    local ready = process.listen("ready")
    local deadline = time.after("10s")

    for _ = 1, WORKERS do
        local pid, err = process.spawn_linked("app:prime_worker", HOST, process.pid())
        if not pid then
            error("cannot start a worker: " .. tostring(err))
        end
    end
    io.print(string.format("%d workers, %d jobs of %d numbers", WORKERS, JOBS, RANGE))

    local next_job = 1
    local results: {[integer]: integer} = {}
    local received, stopped = 0, 0

    while stopped < WORKERS do
        local r = channel.select({ ready:case_receive(), events:case_receive(), deadline:case_receive() })
        if r.channel == events then
            local ev = r.value
            error("worker " .. tostring(ev.from) .. " died: " .. tostring(ev.result and ev.result.error))
        elseif r.channel ~= ready then
            error("the pool did not finish in time")
        end
        local msg = r.value
        if msg.done then
            if results[msg.done.id] ~= nil then
                error("job " .. msg.done.id .. " came back twice")
            end
            results[msg.done.id] = msg.done.primes
            received = received + 1
        end
        if next_job <= JOBS then
            local from = (next_job - 1) * RANGE + 1
            process.send(msg.worker, "order", {
                job = { id = next_job, from = from, to = from + RANGE - 1 },
            })
            next_job = next_job + 1
        else
            process.send(msg.worker, "order", { stop = true })
            stopped = stopped + 1
        end
    end

    local total = 0
    for id = 1, JOBS do
        local from = (id - 1) * RANGE + 1
        io.print(string.format("job %d: %5d..%5d has %3d primes", id, from, from + RANGE - 1, results[id]))
        total = total + results[id]
    end
    io.print(string.format("%d results, %d primes below %d", received, total, JOBS * RANGE + 1))
    return 0
end

return { main = main }
