-- supervisor: restarts a crashing worker by hand.
--
-- With trap_links on, the death of a linked process does not take this
-- process down; it arrives as a LINK_DOWN event on process.events() instead.
-- The supervisor feeds words to its worker one at a time. When the worker
-- dies, it logs the reason, starts a fresh one (spawn_linked again) and moves
-- on to the next word, up to MAX_RESTARTS restarts.

local io = require("io")
local time = require("time")

local HOST = "app:processes"
local WORKER = "app:shouter"
local MAX_RESTARTS = 2
local WORDS = { "wippy", "", "actors", "links", "", "done", "", "never sent" }

-- "file.lua:12: message" -> "message"
local function strip_position(text: string): string
    return (string.gsub(text, "^[^\n]-:%d+: ", ""))
end

local function main(): integer
    process.set_options({ trap_links = true })
    local events = process.events()
    local shouted = process.listen("shouted")

    local generation = 0
    local seen_pids: {[string]: boolean} = {}

    local function start_worker(): string
        generation = generation + 1
        local pid, err = process.spawn_linked(WORKER, HOST, generation)
        if not pid then
            error("cannot start a worker: " .. tostring(err))
        end
        if seen_pids[pid] then
            error("a restarted worker reused the PID " .. pid)
        end
        seen_pids[pid] = true
        io.print("started worker #" .. generation)
        return pid
    end

    local worker = start_worker()
    local restarts, ok_words, lost_words = 0, 0, 0

    for i, word in ipairs(WORDS) do
        process.send(worker, "word", word)
        local r = channel.select({
            shouted:case_receive(),
            events:case_receive(),
            time.after("2s"):case_receive(),
        })
        if r.channel == shouted then
            if r.value.by ~= worker then
                error("the answer came from " .. tostring(r.value.by) .. ", not from the current worker")
            end
            ok_words = ok_words + 1
            io.print(string.format("word %d: %q -> %q", i, word, r.value.word))
        elseif r.channel == events then
            local ev = r.value
            if ev.kind ~= process.event.LINK_DOWN or ev.from ~= worker then
                error("unexpected event " .. tostring(ev.kind) .. " from " .. tostring(ev.from))
            end
            lost_words = lost_words + 1
            io.print(string.format("word %d: worker #%d crashed: %s", i, generation,
                strip_position(tostring(ev.result.error))))
            if restarts == MAX_RESTARTS then
                io.print("restart budget used up")
                break
            end
            restarts = restarts + 1
            worker = start_worker()
        else
            error("word " .. i .. " got no answer in time")
        end
    end

    io.print(string.format("%d words shouted, %d lost, %d restarts", ok_words, lost_words, restarts))
    return 0
end

return { main = main }
