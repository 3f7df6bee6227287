-- tally: stage 3. Counts the words; at "eof" sends the TOP most frequent
-- (ties broken alphabetically) to the process that built the pipeline.

local TOP = 5

type Count = { word: string, n: integer }

local function main(report_to: string): integer
    local input = process.listen("in")
    local counts: {[string]: integer} = {}
    while true do
        local item = input:receive()
        if item.eof then
            local list: {Count} = {}
            for word, n in pairs(counts) do
                table.insert(list, { word = word, n = n })
            end
            table.sort(list, function(a: Count, b: Count): boolean
                if a.n ~= b.n then
                    return a.n > b.n
                end
                return a.word < b.word
            end)
            local top = {}
            for i = 1, math.min(TOP, #list) do
                top[i] = list[i]
            end
            item.counted.tally = #list
            process.send(report_to, "report", { top = top, counted = item.counted })
            return 0
        end
        counts[item.word] = (counts[item.word] or 0) + 1
    end
end

return { main = main }
