-- shouter: answers each "word" message with the word in upper case.
--
-- An empty word is a bug we have not fixed yet: the worker raises an error
-- and dies. Its supervisor is linked to it and finds out.

local function main(generation: integer): integer
    local words = process.listen("word", { message = true })
    while true do
        local msg, ok = words:receive()
        if not ok then
            return 0
        end
        local word: string = msg:payload():data()
        if word == "" then
            error("shouter #" .. generation .. " cannot shout an empty word")
        end
        process.send(msg:from(), "shouted", {
            word = string.upper(word),
            by = process.pid(),
        })
    end
end

return { main = main }
