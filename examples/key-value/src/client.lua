-- client: runs its commands against the store named "kv", one request at a
-- time, and sends a transcript of the answers to whoever started it.

local function show(v: any): string
    if type(v) == "table" then
        return "[" .. table.concat(v, " ") .. "]"
    end
    return tostring(v)
end

local function main(name: string, commands, report_to: string): integer
    local answers = process.listen("answer")
    local transcript: {string} = {}
    for _, cmd in ipairs(commands) do
        local sent, err = process.send("kv", "call", cmd)
        if not sent then
            error(name .. ": cannot reach kv: " .. tostring(err))
        end
        local a = answers:receive()
        local text = cmd.op .. " " .. (cmd.key or "")
        if a.ok then
            text = text .. " -> " .. show(a.value)
        else
            text = text .. " -> error: " .. a.error
        end
        transcript[#transcript + 1] = text
    end
    process.send(report_to, "transcript", { name = name, lines = transcript })
    return 0
end

return { main = main }
