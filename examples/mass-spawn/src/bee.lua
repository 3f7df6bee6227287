-- bee: the smallest useful process. It is told who to report to and its
-- number, reports once and ends.

local function main(parent: string, n: integer): integer
    process.send(parent, "report", { n = n, square = n * n, pid = process.pid() })
    return 0
end

return { main = main }
