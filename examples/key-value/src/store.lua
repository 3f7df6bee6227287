-- store: the only owner of the data. It registers itself under a name, so
-- clients need no PID, only "kv". Each request is a table {op, key, value?}
-- sent on topic "call"; the answer goes back to the sender on "answer".
-- Requests are handled one at a time, so there are no races on the map.

type Answer = { ok: boolean, value: any?, error: string? }

local NAME = "kv"

local function handle(data: {[string]: any}, req): Answer
    if req.op == "put" then
        local is_new = data[req.key] == nil
        data[req.key] = req.value
        return { ok = true, value = is_new and "created" or "replaced" }
    elseif req.op == "get" then
        return { ok = true, value = data[req.key] }
    elseif req.op == "incr" then
        local n = (data[req.key] or 0) + (req.value or 1)
        data[req.key] = n
        return { ok = true, value = n }
    elseif req.op == "del" then
        local had = data[req.key] ~= nil
        data[req.key] = nil
        return { ok = true, value = had }
    elseif req.op == "keys" then
        local keys = {}
        for k in pairs(data) do
            keys[#keys + 1] = k
        end
        table.sort(keys)
        return { ok = true, value = keys }
    end
    return { ok = false, error = "unknown op " .. tostring(req.op) }
end

local function main(owner: string): integer
    local ok, err = process.registry.register(NAME)
    if not ok then
        error("cannot register " .. NAME .. ": " .. tostring(err))
    end
    -- tell the owner the name is usable now
    process.send(owner, "store.ready", NAME)

    local data: {[string]: any} = {}
    local calls = process.listen("call", { message = true })
    local served = 0
    while true do
        local msg = calls:receive()
        local req = msg:payload():data()
        served = served + 1
        if req.op == "shutdown" then
            process.send(msg:from(), "answer", { ok = true, value = served })
            return 0
        end
        process.send(msg:from(), "answer", handle(data, req))
    end
end

return { main = main }
