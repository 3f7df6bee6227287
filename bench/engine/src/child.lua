-- Child processes of the benchmarks; the first argument picks the behaviour.

local function recv(inbox)
    local m = inbox:receive()
    return m:topic(), m:payload():data(), m:from()
end

local function exit_child(parent)
    process.send(parent, "up", 1)
end

local function idle_child(parent)
    local inbox = process.inbox()
    process.send(parent, "up", 1)
    recv(inbox)
end

local function pong_child()
    local inbox = process.inbox()
    while true do
        local m = inbox:receive()
        if m:topic() == "stop" then return end
        process.send(m:from(), "pong", m:payload():data())
    end
end

local function ring_child(parent)
    local inbox = process.inbox()
    local send = process.send
    local nxt
    while true do
        local m = inbox:receive()
        local topic = m:topic()
        if topic == "tok" then
            local left = m:payload():data()
            if left == 0 then
                send(parent, "done", 0)
            else
                send(nxt, "tok", left - 1)
            end
        elseif topic == "next" then
            nxt = m:payload():data()
        else
            send(parent, "bye", 0)
            return
        end
    end
end

local function fanin_child(parent, k)
    local send = process.send
    for i = 1, k do send(parent, "m", i) end
end

local function cpu_child(parent, n)
    local acc = 0
    for i = 1, n do acc = (acc + i * i) % 1000003 end
    process.send(parent, "cpu", acc)
end

local function main(mode, parent, n)
    if mode == "exit" then return exit_child(parent) end
    if mode == "idle" then return idle_child(parent) end
    if mode == "pong" then return pong_child() end
    if mode == "ring" then return ring_child(parent) end
    if mode == "fanin" then return fanin_child(parent, n) end
    if mode == "cpu" then return cpu_child(parent, n) end
    error("unknown child mode " .. tostring(mode))
end

return { main = main }
