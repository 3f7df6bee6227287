-- prime_worker: a pull-style pool worker.
--
-- It announces itself with "ready", receives a job (a range of numbers) or a
-- stop order, and after every job sends the result together with its next
-- "ready". Because workers ask for work when they are free, a fast worker
-- simply takes more jobs.

type Job = { id: integer, from: integer, to: integer }

local function is_prime(n: integer): boolean
    if n < 2 then
        return false
    end
    local d = 2
    while d * d <= n do
        if n % d == 0 then
            return false
        end
        d = d + 1
    end
    return true
end

local function count_primes(job: Job): integer
    local count = 0
    for n = job.from, job.to do
        if is_prime(n) then
            count = count + 1
        end
    end
    return count
end

local function main(dispatcher: string): integer
    local orders = process.listen("order")
    local me = process.pid()
    process.send(dispatcher, "ready", { worker = me })
    while true do
        local order = orders:receive()
        if order.stop then
            return 0
        end
        local job: Job = order.job
        process.send(dispatcher, "ready", {
            worker = me,
            done = { id = job.id, primes = count_primes(job) },
        })
    end
end

return { main = main }
