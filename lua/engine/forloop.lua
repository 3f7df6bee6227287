-- Chunked numeric `for` loops (preemption without a per-iteration cost).
--
-- The compiler turns `for v = a, b, s do BODY end` into
--
--   do local __wi, __we, __ws, __wl = __wfor(a, b, s)
--     while true do
--       for v = __wi, __we, __ws do BODY end
--       if __wl == nil then break end
--       __wi, __we, __ws, __wl = __wfor(__we + __ws, __wl, __ws)
--     end ::__wbrkN:: end              (a `break` in BODY becomes `goto __wbrkN`)
--
-- so the body runs in an untouched Lua `for` over chunks of at most BUDGET iterations,
-- and only the chunk boundary costs a call. `__wfor` returns the chunk's first value, its
-- last value, the step, and the loop's (normalised) limit when more chunks follow, nil
-- when this chunk finishes the loop. Iterations are counted against the budget in `q[1]`
-- (`__wq`, one per instantiation of a compiled chunk: a process can only spoil its own);
-- when it is spent, `wpre` (the engine's safepoint) may yield the running task.
--
-- The usual loop, `for v = A, b do` with A a non-negative integer literal, does not call
-- `__wfor` when an integer b fits in the budget: the compiled code checks and counts
-- inline (`__wm` is math.type), so a short inner loop costs one C call instead of a Lua
-- call and four C calls.
--
-- Values a plain `for` would refuse (strings, a zero step, NaN) are passed through as one
-- chunk: the inner `for` then raises Lua's own error on the user's line.
--
-- Loaded once per shard: `wfor = load(this)(wpre)`; `wpre()` returns the next budget.

local wpre = ...
local mtype, floor, ceil, ult = math.type, math.floor, math.ceil, math.ult
local BIG_STEP = 1 << 53 -- steps this large leave few iterations: no chunking needed

return function(i, b, s, q)
  local left = q[1]
  if left <= 0 then left = wpre() end
  if mtype(i) == "integer" and mtype(s) == "integer" then
    -- an integer loop; a float limit is clipped as Lua's forprep does
    if mtype(b) ~= "integer" then
      if type(b) ~= "number" or b ~= b then q[1] = left return i, b, s, nil end
      if s > 0 then
        b = floor(b)
        if mtype(b) ~= "integer" then
          if b < 0 then q[1] = left return i, b, s, nil end
          b = math.maxinteger
        end
      else
        b = ceil(b)
        if mtype(b) ~= "integer" then
          if b > 0 then q[1] = left return i, b, s, nil end
          b = math.mininteger
        end
      end
    end
    if s > 0 then
      if i > b or s >= BIG_STEP then q[1] = left return i, b, s, nil end
      local d = b - i -- the distance, read unsigned (wraps for spans beyond maxinteger)
      local m = (left - 1) * s
      if ult(d, m + s) then -- the rest fits in this chunk
        q[1] = left - (d // s + 1)
        return i, b, s, nil
      end
      q[1] = 0
      return i, i + m, s, b
    elseif s < 0 then
      if i < b or s <= -BIG_STEP then q[1] = left return i, b, s, nil end
      local d = i - b
      local m = (left - 1) * -s
      if ult(d, m - s) then
        q[1] = left - (d // -s + 1)
        return i, b, s, nil
      end
      q[1] = 0
      return i, i - m, s, b
    end
    q[1] = left
    return i, b, s, nil -- a zero step: the inner `for` raises
  end
  -- a float loop: the values are sums, so the chunk's end is found by the same additions
  if type(i) ~= "number" or type(b) ~= "number" or type(s) ~= "number"
      or s == 0 or i ~= i or b ~= b or s ~= s then
    q[1] = left
    return i, b, s, nil
  end
  local count = (b - i) / s -- about the number of steps left
  if count < left - 2 then -- the rest fits in this chunk
    q[1] = count >= 0 and left - 1 - floor(count) or left
    return i, b, s, nil
  end
  -- the chunk's last value, added up as the loop will (`e + s + s` rounds after each +)
  local e = i + 0.0
  for _ = 1, (left - 1) >> 3 do e = e + s + s + s + s + s + s + s + s end
  for _ = 1, (left - 1) & 7 do e = e + s end
  local nx = e + s
  if (s > 0 and nx > b) or (s < 0 and nx < b) then -- no value after this chunk
    q[1] = 0
    return i, b, s, nil
  end
  q[1] = 0
  return i, e, s, b
end
