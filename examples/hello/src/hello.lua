-- hello: one process that writes to the terminal and exits.
--
-- `process.pid()` names the process that is running this code: every piece
-- of Wippy code runs inside a process with its own PID and inbox.

local io = require("io")

type Greeting = {
    who: string,
    lines: {string},
}

local function greeting(who: string): Greeting
    return {
        who = who,
        lines = {
            "Hello, " .. who .. "!",
            "I am process " .. process.pid() .. ", running on the terminal host.",
        },
    }
end

local function main(): integer
    local g = greeting("Wippy")
    for _, line in ipairs(g.lines) do
        io.print(line)
    end
    -- `wippy run -x` exits with the integer main returns
    return 0
end

return { main = main }
