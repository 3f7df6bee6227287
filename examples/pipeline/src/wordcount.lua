-- wordcount: a pipeline of three processes, fed through a channel.
--
--   reader coroutine --channel--> main loop --msg--> tokenize --msg-->
--   drop_stopwords --msg--> tally --msg "report"--> back here
--
-- Inside this process a coroutine (coroutine.spawn) reads the text line by
-- line into a small buffered channel; the main loop takes lines off the
-- channel and sends them to the first stage. The stages are separate
-- processes, built back to front so that each knows the PID of the next.

local io = require("io")
local time = require("time")

local HOST = "app:processes"

local POEM = [[
The river carries the stone, the stone remembers the river.
Rain on the river, rain on the roof, rain on the road home.
A stone in the road, a river in the rain:
the road bends with the river and the river bends with the road.
]]

local function stage(entry: string, arg: string): string
    local pid, err = process.spawn_linked(entry, HOST, arg)
    if not pid then
        error("cannot start " .. entry .. ": " .. tostring(err))
    end
    return pid
end

local function main(): integer
    process.set_options({ trap_links = true })
    local events = process.events()
    local reports = process.listen("report")

    local tally = stage("app:tally", process.pid())
    local filter = stage("app:drop_stopwords", tally)
    local first = stage("app:tokenize", filter)

    -- the reader: lines into a channel, closed at the end of the text
    local lines = channel.new(2)
    coroutine.spawn(function()
        for line in string.gmatch(POEM, "[^\n]+") do
            lines:send(line)
        end
        lines:close()
    end)

    local sent = 0
    while true do
        local line, ok = lines:receive()
        if not ok then
            break
        end
        process.send(first, "in", { line = line })
        sent = sent + 1
    end
    process.send(first, "in", { eof = true })
    io.print("fed " .. sent .. " lines into tokenize -> drop_stopwords -> tally")

    local r = channel.select({ reports:case_receive(), events:case_receive(), time.after("5s"):case_receive() })
    if r.channel == events then
        error("a stage died: " .. tostring(r.value.result and r.value.result.error))
    elseif r.channel ~= reports then
        error("no report from the tally stage")
    end
    local report = r.value
    io.print(string.format("words: %d read, %d kept, %d distinct",
        report.counted.tokenize, report.counted.drop_stopwords, report.counted.tally))
    for i, c in ipairs(report.top) do
        io.print(string.format("%d. %-6s %d", i, c.word, c.n))
    end
    return 0
end

return { main = main }
