-- drop_stopwords: stage 2. Passes on words of four letters or more that
-- are not in the stop list.

local STOP: {[string]: boolean} = {}
for _, w in ipairs({ "that", "with", "from", "this", "have", "were", "when", "your" }) do
    STOP[w] = true
end

local function main(next_stage: string): integer
    local input = process.listen("in")
    local kept = 0
    while true do
        local item = input:receive()
        if item.eof then
            item.counted.drop_stopwords = kept
            process.send(next_stage, "in", item)
            return 0
        end
        if #item.word >= 4 and not STOP[item.word] then
            kept = kept + 1
            process.send(next_stage, "in", item)
        end
    end
end

return { main = main }
