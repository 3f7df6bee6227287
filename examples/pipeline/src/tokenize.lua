-- tokenize: stage 1. Each "line" message becomes "word" messages for the
-- next stage; "eof" is passed on unchanged so the end travels down the chain.
-- Messages from one sender arrive in the order they were sent, so "eof"
-- always comes after the last word.

local function main(next_stage: string): integer
    local input = process.listen("in")
    local words = 0
    while true do
        local item = input:receive()
        if item.eof then
            process.send(next_stage, "in", { eof = true, counted = { tokenize = words } })
            return 0
        end
        for word in string.gmatch(string.lower(item.line), "%a+") do
            words = words + 1
            process.send(next_stage, "in", { word = word })
        end
    end
end

return { main = main }
