-- main: a key-value store as a named process.
--
-- 1. start app:store; it registers the name "kv" and says it is ready;
-- 2. start two clients at once, each working on keys of its own;
-- 3. print their transcripts (collected by name, so the output is stable);
-- 4. ask the store for all keys, shut it down, and check that its name was
--    released when it exited.

local io = require("io")
local time = require("time")

local HOST = "app:processes"

local SESSIONS = {
    ann = {
        { op = "put", key = "ann.city", value = "Lisbon" },
        { op = "incr", key = "ann.visits" },
        { op = "incr", key = "ann.visits", value = 10 },
        { op = "get", key = "ann.city" },
        { op = "swap", key = "ann.city" },
    },
    ben = {
        { op = "put", key = "ben.lang", value = "Lua" },
        { op = "get", key = "ben.missing" },
        { op = "put", key = "ben.tmp", value = "x" },
        { op = "put", key = "ben.tmp", value = "y" },
        { op = "del", key = "ben.tmp" },
        { op = "del", key = "ben.tmp" },
    },
}

local function main(): integer
    local deadline = time.after("5s")
    local function wait(ch, what: string)
        local r = channel.select({ ch:case_receive(), deadline:case_receive() })
        if r.channel ~= ch then
            error("timed out waiting for " .. what)
        end
        return r.value
    end

    local store = process.spawn_monitored("app:store", HOST, process.pid())
    if not store then
        error("cannot start the store")
    end
    local name = wait(process.listen("store.ready"), "the store")
    local found = process.registry.lookup(name)
    io.print("store is up as \"" .. name .. "\": " .. tostring(found == store))

    local transcripts = process.listen("transcript")
    for who, commands in pairs(SESSIONS) do
        process.spawn("app:client", HOST, who, commands, process.pid())
    end
    local by_name = {}
    for _ = 1, 2 do
        local t = wait(transcripts, "a transcript")
        by_name[t.name] = t.lines
    end
    for _, who in ipairs({ "ann", "ben" }) do
        for _, line in ipairs(by_name[who]) do
            io.print(who .. ": " .. line)
        end
    end

    -- main is a client too; it talks to the store by name as well
    local answers = process.listen("answer")
    process.send("kv", "call", { op = "keys" })
    io.print("keys: " .. table.concat(wait(answers, "the key list").value, ", "))
    process.send("kv", "call", { op = "shutdown" })
    io.print("store served " .. wait(answers, "the shutdown").value .. " requests")

    local exit = wait(process.events(), "the store to exit")
    assert(exit.kind == process.event.EXIT and exit.from == store)
    local pid = process.registry.lookup(name)
    io.print("after exit the name \"" .. name .. "\" is free: " .. tostring(pid == nil))
    return 0
end

return { main = main }
