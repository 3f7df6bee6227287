-- The shard prelude: everything that runs inside one Lua state hosting many processes.
--
-- A shard is one Lua 5.4 state. A process is a set of tasks (coroutines: the main task
-- plus coroutine.spawn tasks) sharing one private _ENV. The shard keeps its own run
-- queue of tasks, so a message, a wake-up or a channel hand-off between processes of
-- this shard is a table operation with no crossing into Python. Python sees the shard
-- as one unit: `run_batch(budget)` runs tasks until the queue is empty or the budget
-- is spent and returns whether work remains and when the next timer is due.
--
-- Crossings into Python go through the host table `H` handed to this chunk:
--   H.pull()                  next incoming item (see `pull_incoming`)
--   H.mono()                  monotonic seconds
--   H.spawn(parent, id, host, flags, name, exec_tag) -> pid, here[, room] | pid, 0 (name taken)
--                                                      | nil, kind, message
--   H.register(batch, want_pids)  -> room[, first, count] (see REG: spawns without asking)
--   H.post(from, to, topic, n, blob)              -> true | nil, kind, message
--   H.resolve(dest)           -> pid, here | nil, kind, message
--   H.exit(pid, ok, blob, errblob)                a process finished
--   H.topology(op, pid, target, extra)            -> true | nil, kind, message
--   H.command(pid, tag, name, ...)                -> true, values... (done) | false (pending)
--   H.chunk(entry_id)          -> code, chunkname, method, modules, imports
--   H.shareable(dump)          -> whether processes may share one instantiation (sharing.py)
--   H.log(pid, level, message, fields_blob)
--   H.owed                    set by Python: a wake of an idle worker is owed (run_batch)
--   H.pay()                   send that wake now
-- Blobs are msgpack strings made by `encode` below; scalars cross as themselves.
local H = ...
-- Generational collection: messages, payloads and waiter records die young. A minor
-- collection after 10 % growth (default 20 %) keeps less garbage around in a large heap:
-- -4 % RSS per idle process at 100,000 processes. A small heap gets up to 4 MiB of new
-- objects between collections instead (see young_budget): a burst of spawns outlives a
-- 10 % budget of it (docs/engine.md).
collectgarbage("generational", 10)

local type, pairs, ipairs, next, select, error, pcall, xpcall, tostring_raw =
    type, pairs, ipairs, next, select, error, pcall, xpcall, tostring
local setmetatable, getmetatable, rawget, rawset, rawequal, rawlen = setmetatable, getmetatable, rawget, rawset, rawequal, rawlen
local co_create, co_resume, co_yield, co_status, co_running, co_close, co_wrap_raw, co_isyieldable =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.running,
    coroutine.close, coroutine.wrap, coroutine.isyieldable
local string_format, string_byte, string_char, string_sub, string_find, string_rep =
    string.format, string.byte, string.char, string.sub, string.find, string.rep
local string_pack, string_unpack = string.pack, string.unpack
local math_type, math_floor, math_huge = math.type, math.floor, math.huge
local table_concat, table_unpack, table_insert, table_remove = table.concat, table.unpack, table.insert, table.remove
local debug_traceback = debug.traceback
local rawgetmt = debug.getmetatable
local load = load

local M = {} -- what the prelude returns to Python

---------------------------------------------------------------------------------------
-- numbers as the reference prints them: an integral float prints without ".0"

local function fmtnum(x)
  return string_format("%.14g", x)
end

local function tostring_w(v)
  if math_type(v) == "float" then return fmtnum(v) end
  return tostring_raw(v)
end

local function wcat(...)
  local n = select("#", ...)
  if n == 2 then
    local a, b = ...
    if math_type(a) == "float" then a = fmtnum(a) end
    if math_type(b) == "float" then b = fmtnum(b) end
    return a .. b
  end
  local t = { ... }
  local acc = t[n]
  if math_type(acc) == "float" then acc = fmtnum(acc) end
  for i = n - 1, 1, -1 do
    local v = t[i]
    if math_type(v) == "float" then v = fmtnum(v) end
    acc = v .. acc
  end
  return acc
end

local format_cache = setmetatable({}, { __mode = "k" })
local function string_args(fmt)
  local idx = format_cache[fmt]
  if idx then return idx end
  idx = {}
  local argn = 0
  for spec in fmt:gmatch("%%[-+ #0]*%d*%.?%d*([%a%%])") do
    if spec ~= "%" then
      argn = argn + 1
      if spec == "s" then idx[#idx + 1] = argn end
    end
  end
  format_cache[fmt] = idx
  return idx
end

local function format_w(fmt, ...)
  if type(fmt) ~= "string" then return string_format(fmt, ...) end
  local idx = string_args(fmt)
  if #idx == 0 then return string_format(fmt, ...) end
  local n = select("#", ...)
  local args = { ... }
  for i = 1, #idx do
    local k = idx[i]
    local v = args[k]
    if math_type(v) == "float" then args[k] = fmtnum(v) end
  end
  return string_format(fmt, table_unpack(args, 1, n))
end

local function concat_w(t, sep, i, j)
  i = i or 1
  j = j or #t
  local parts = {}
  for k = i, j do
    local v = t[k]
    if math_type(v) == "float" then v = fmtnum(v) end
    parts[#parts + 1] = v
  end
  return table_concat(parts, sep or "")
end

-- the real string table gets the reference's format (method syntax reaches it)
string.format = format_w
table.concat = concat_w

---------------------------------------------------------------------------------------
-- read-only proxies for library and module tables

local protected = setmetatable({}, { __mode = "k" })

local function readonly(t, name, seen)
  -- a read-only view of t; nested plain tables are wrapped too, so no part of a shared
  -- library or module table can be changed through it (the view is taken once: module
  -- tables are complete when they are wrapped)
  seen = seen or {}
  if seen[t] then return seen[t] end
  local proxy = {}
  seen[t] = proxy
  local view = {}
  for k, v in next, t do
    if type(v) == "table" and getmetatable(v) == nil and not protected[v] then
      view[k] = readonly(v, (name or "?") .. "." .. tostring_raw(k), seen)
    else
      if type(v) == "table" then protected[v] = true end
      view[k] = v
    end
  end
  local mt = {
    __index = view,
    __newindex = function(_, k)
      error(string_format("attempt to modify read-only table '%s' (field '%s')", name or "?", tostring_raw(k)), 2)
    end,
    __pairs = function() return next, view, nil end,
    __len = function() return #view end,
  }
  setmetatable(proxy, mt)
  protected[proxy] = true
  protected[t] = true
  protected[view] = true
  return proxy
end

local function rawset_w(t, k, v)
  if protected[t] then error("attempt to modify a read-only table", 2) end
  return rawset(t, k, v)
end

-- Metatables user code set itself are the only ones it may see or replace: the engine's
-- (errors, channels, messages, Time values, read-only proxies, the string metatable) are
-- shared by every process of the shard, so handing them out would let one process change
-- another's objects. `__gc` is not honoured (as in the reference): a finalizer would run
-- while some other process is current.
local user_mt = setmetatable({}, { __mode = "k" })

local function setmetatable_w(t, mt)
  if protected[t] then error("cannot change a protected metatable", 2) end
  local old = rawgetmt(t)
  if old ~= nil and not user_mt[old] then error("cannot change a protected metatable", 2) end
  if mt == nil then return setmetatable(t, nil) end
  if type(mt) ~= "table" then return setmetatable(t, mt) end
  if protected[mt] or (rawgetmt(mt) ~= nil and not user_mt[rawgetmt(mt)] and false) then
    error("cannot use a protected table as a metatable", 2)
  end
  user_mt[mt] = true
  local gc = rawget(mt, "__gc")
  if gc ~= nil then
    rawset(mt, "__gc", nil)
    setmetatable(t, mt)
    rawset(mt, "__gc", gc)
    return t
  end
  return setmetatable(t, mt)
end

local function getmetatable_w(v)
  local mt = rawgetmt(v)
  if mt == nil or not user_mt[mt] then return nil end
  return getmetatable(v)
end

-- hide the string metatable
do
  local smt = getmetatable("")
  smt.__metatable = false
end

---------------------------------------------------------------------------------------
-- errors

local ERR = {}
ERR.__index = ERR
ERR.__name = "error"
local KINDS = {
  NOT_FOUND = "NotFound", ALREADY_EXISTS = "AlreadyExists", INVALID = "Invalid",
  PERMISSION_DENIED = "PermissionDenied", UNAVAILABLE = "Unavailable", INTERNAL = "Internal",
  CANCELED = "Canceled", CONFLICT = "Conflict", TIMEOUT = "Timeout", RATE_LIMITED = "RateLimited",
  UNKNOWN = "",
}

local function new_error(kind, message, retryable, details, stack)
  return setmetatable({ k = kind or "", m = message or "", r = retryable, d = details, s = stack }, ERR)
end

local function is_error(v) return rawgetmt(v) == ERR end

ERR.__tostring = function(e) return e.m end
ERR.__concat = function(a, b)
  if is_error(a) then a = a.m elseif math_type(a) == "float" then a = fmtnum(a) end
  if is_error(b) then b = b.m elseif math_type(b) == "float" then b = fmtnum(b) end
  return tostring_raw(a) .. tostring_raw(b)
end
ERR.__eq = function(a, b) return a.k == b.k and a.m == b.m end
function ERR:kind() return self.k end
function ERR:message() return self.m end
function ERR:retryable() return self.r end
function ERR:details() return self.d end
function ERR:stack() return self.s or "" end

local RETRYABLE = { Timeout = true, Unavailable = true, RateLimited = true }

local errors_mod = {}
for k, v in pairs(KINDS) do errors_mod[k] = v end
function errors_mod.new(a, b)
  if type(a) == "table" and not is_error(a) then
    local msg = a.message
    if msg == nil then error("errors.new: message is required", 2) end
    if type(msg) ~= "string" then msg = tostring_w(msg) end
    return new_error(a.kind or "", msg or "", a.retryable, a.details)
  end
  if is_error(a) then return a end
  if a == nil then error("errors.new: message required", 2) end
  return new_error("", tostring_w(a), nil, nil, debug_traceback("", 2))
end
function errors_mod.wrap(e, context)
  if e == nil then return nil end
  if not is_error(e) then e = new_error("", tostring_w(e)) end
  local w = new_error(e.k, e.m, e.r, e.d, (context or "") .. "\n" .. (e.s or ""))
  w.cause = e
  return w
end
function errors_mod.is(e, kind)
  if not is_error(e) then return false end
  while e do
    if e.k == kind then return true end
    e = e.cause
  end
  return false
end
function errors_mod.unwrap(e)
  if is_error(e) then return e.cause end
  return nil
end
function errors_mod.call_stack(e)
  if not is_error(e) or not e.s then return nil end
  return { thread = "main", frames = {} }
end
function errors_mod.retryable(e)
  if not is_error(e) then return false end
  if e.r ~= nil then return e.r end
  return RETRYABLE[e.k] or false
end

-- a raised Lua value turned into an error object at a boundary
local function to_error(v, default_kind)
  if is_error(v) then return v end
  if v == nil then v = "nil" end
  -- a user __tostring may raise: the error must still become an error object
  local ok, text = pcall(tostring_w, v)
  if not ok or type(text) ~= "string" then text = "error value of type " .. type(v) end
  return new_error(default_kind or "", text)
end

---------------------------------------------------------------------------------------
-- msgpack: how values cross between shards and into Python

local MP_ERR, MP_CHAN = 1, 2

local encode_into
local function encode_str(buf, s)
  local n = #s
  if n < 32 then buf[#buf + 1] = string_char(0xa0 + n)
  elseif n < 256 then buf[#buf + 1] = string_pack(">BB", 0xd9, n)
  elseif n < 65536 then buf[#buf + 1] = string_pack(">BI2", 0xda, n)
  else buf[#buf + 1] = string_pack(">BI4", 0xdb, n) end
  buf[#buf + 1] = s
end

local function encode_int(buf, v)
  if v >= 0 then
    if v < 128 then buf[#buf + 1] = string_char(v)
    elseif v < 256 then buf[#buf + 1] = string_pack(">BB", 0xcc, v)
    elseif v < 65536 then buf[#buf + 1] = string_pack(">BI2", 0xcd, v)
    elseif v < 4294967296 then buf[#buf + 1] = string_pack(">BI4", 0xce, v)
    else buf[#buf + 1] = string_pack(">Bi8", 0xd3, v) end
  else
    if v >= -32 then buf[#buf + 1] = string_pack(">b", v)
    elseif v >= -128 then buf[#buf + 1] = string_pack(">Bb", 0xd0, v)
    elseif v >= -32768 then buf[#buf + 1] = string_pack(">Bi2", 0xd1, v)
    elseif v >= -2147483648 then buf[#buf + 1] = string_pack(">Bi4", 0xd2, v)
    else buf[#buf + 1] = string_pack(">Bi8", 0xd3, v) end
  end
end

local function encode_map_header(buf, n)
  if n < 16 then buf[#buf + 1] = string_char(0x80 + n)
  elseif n < 65536 then buf[#buf + 1] = string_pack(">BI2", 0xde, n)
  else buf[#buf + 1] = string_pack(">BI4", 0xdf, n) end
end

local function encode_array_header(buf, n)
  if n < 16 then buf[#buf + 1] = string_char(0x90 + n)
  elseif n < 65536 then buf[#buf + 1] = string_pack(">BI2", 0xdc, n)
  else buf[#buf + 1] = string_pack(">BI4", 0xdd, n) end
end

encode_into = function(buf, v, depth)
  local t = type(v)
  if t == "nil" then buf[#buf + 1] = "\xc0"
  elseif t == "boolean" then buf[#buf + 1] = v and "\xc3" or "\xc2"
  elseif t == "number" then
    if math_type(v) == "integer" then encode_int(buf, v)
    else buf[#buf + 1] = string_pack(">Bd", 0xcb, v) end
  elseif t == "string" then encode_str(buf, v)
  elseif t == "table" then
    if depth > 100 then error("value nested too deeply to send") end
    local mt = rawgetmt(v)
    if mt == ERR then
      local inner = {}
      encode_map_header(inner, 4)
      encode_str(inner, "kind"); encode_str(inner, v.k)
      encode_str(inner, "message"); encode_str(inner, v.m)
      encode_str(inner, "retryable"); encode_into(inner, v.r, depth + 1)
      encode_str(inner, "details"); encode_into(inner, v.d, depth + 1)
      local body = table_concat(inner)
      buf[#buf + 1] = string_pack(">BI4b", 0xc9, #body, MP_ERR)
      buf[#buf + 1] = body
      return
    end
    local enc = mt and not user_mt[mt] and rawget(mt, "__wippy_encode")
    if enc then
      return encode_into(buf, enc(v), depth)
    end
    -- a sequence (every key an integer 1..n) is an array; anything else a map (a value
    -- list {n = 3, "a", nil, x} has as many keys as its border: it must stay a map)
    local n = rawlen(v)
    local count, seq = 0, true
    for k in next, v do
      count = count + 1
      if seq and (math_type(k) ~= "integer" or k < 1 or k > n) then seq = false end
    end
    if seq and count == n and n > 0 then
      encode_array_header(buf, n)
      for i = 1, n do encode_into(buf, rawget(v, i), depth + 1) end
    elseif count == 0 then
      buf[#buf + 1] = "\x90"
    else
      encode_map_header(buf, count)
      for k, val in next, v do
        encode_into(buf, k, depth + 1)
        encode_into(buf, val, depth + 1)
      end
    end
  else
    -- functions, threads and userdata do not cross process boundaries
    buf[#buf + 1] = "\xc0"
  end
end

local function encode(v)
  local buf = {}
  encode_into(buf, v, 0)
  return table_concat(buf)
end

local decode_at
local function decode_n(s, pos, n, is_map, depth)
  local t = {}
  if is_map then
    for _ = 1, n do
      local k, v
      k, pos = decode_at(s, pos, depth + 1)
      v, pos = decode_at(s, pos, depth + 1)
      if k ~= nil then t[k] = v end
    end
  else
    for i = 1, n do
      t[i], pos = decode_at(s, pos, depth + 1)
    end
  end
  return t, pos
end

local function decode_ext(s, pos, len, etype, depth)
  local body = string_sub(s, pos, pos + len - 1)
  if etype == MP_ERR then
    local m = decode_at(body, 1, depth + 1)
    return new_error(m.kind, m.message, m.retryable, m.details), pos + len
  end
  return nil, pos + len
end

decode_at = function(s, pos, depth)
  local b = string_byte(s, pos)
  if b < 0x80 then return b, pos + 1 end
  if b >= 0xe0 then return b - 256, pos + 1 end
  if b >= 0xa0 and b < 0xc0 then
    local n = b - 0xa0
    return string_sub(s, pos + 1, pos + n), pos + 1 + n
  end
  if b >= 0x90 and b < 0xa0 then return decode_n(s, pos + 1, b - 0x90, false, depth) end
  if b >= 0x80 and b < 0x90 then return decode_n(s, pos + 1, b - 0x80, true, depth) end
  if b == 0xc0 then return nil, pos + 1 end
  if b == 0xc2 then return false, pos + 1 end
  if b == 0xc3 then return true, pos + 1 end
  if b == 0xcb then return string_unpack(">d", s, pos + 1) end
  if b == 0xca then return string_unpack(">f", s, pos + 1) end
  if b == 0xcc then return string_unpack(">B", s, pos + 1) end
  if b == 0xcd then return string_unpack(">I2", s, pos + 1) end
  if b == 0xce then return string_unpack(">I4", s, pos + 1) end
  if b == 0xcf then return string_unpack(">i8", s, pos + 1) end
  if b == 0xd0 then return string_unpack(">b", s, pos + 1) end
  if b == 0xd1 then return string_unpack(">i2", s, pos + 1) end
  if b == 0xd2 then return string_unpack(">i4", s, pos + 1) end
  if b == 0xd3 then return string_unpack(">i8", s, pos + 1) end
  if b == 0xd9 or b == 0xc4 then
    local n = string_byte(s, pos + 1)
    return string_sub(s, pos + 2, pos + 1 + n), pos + 2 + n
  end
  if b == 0xda or b == 0xc5 then
    local n = string_unpack(">I2", s, pos + 1)
    return string_sub(s, pos + 3, pos + 2 + n), pos + 3 + n
  end
  if b == 0xdb or b == 0xc6 then
    local n = string_unpack(">I4", s, pos + 1)
    return string_sub(s, pos + 5, pos + 4 + n), pos + 5 + n
  end
  if b == 0xdc then return decode_n(s, pos + 3, string_unpack(">I2", s, pos + 1), false, depth) end
  if b == 0xdd then return decode_n(s, pos + 5, string_unpack(">I4", s, pos + 1), false, depth) end
  if b == 0xde then return decode_n(s, pos + 3, string_unpack(">I2", s, pos + 1), true, depth) end
  if b == 0xdf then return decode_n(s, pos + 5, string_unpack(">I4", s, pos + 1), true, depth) end
  if b == 0xd4 then return decode_ext(s, pos + 2, 1, string_unpack(">b", s, pos + 1), depth) end
  if b == 0xd5 then return decode_ext(s, pos + 2, 2, string_unpack(">b", s, pos + 1), depth) end
  if b == 0xd6 then return decode_ext(s, pos + 2, 4, string_unpack(">b", s, pos + 1), depth) end
  if b == 0xd7 then return decode_ext(s, pos + 2, 8, string_unpack(">b", s, pos + 1), depth) end
  if b == 0xd8 then return decode_ext(s, pos + 2, 16, string_unpack(">b", s, pos + 1), depth) end
  if b == 0xc7 then
    local n, et = string_unpack(">Bb", s, pos + 1)
    return decode_ext(s, pos + 3, n, et, depth)
  end
  if b == 0xc8 then
    local n, et = string_unpack(">I2b", s, pos + 1)
    return decode_ext(s, pos + 4, n, et, depth)
  end
  if b == 0xc9 then
    local n, et = string_unpack(">I4b", s, pos + 1)
    return decode_ext(s, pos + 6, n, et, depth)
  end
  error("bad msgpack byte " .. b)
end

local function decode(s)
  if s == nil then return nil end
  return (decode_at(s, 1, 0))
end

-- a value crossing to Python: scalars as themselves, everything else as a blob (n = 1)
local function export(v)
  local t = type(v)
  if t == "table" then return 1, encode(v) end
  if t == "function" or t == "thread" or t == "userdata" then return 0, nil end
  return 0, v
end

local function import(kind, v)
  if kind == 1 then return decode(v) end
  return v
end

---------------------------------------------------------------------------------------
-- deep copy for messages between processes of this shard

local CHAN -- channel metatable, defined below

local copy_budget = math_huge -- bytes a copy may still take (strings + table slots)
local TOO_BIG = {}

local function deepcopy(v, seen)
  if type(v) ~= "table" then
    local t = type(v)
    if t == "function" or t == "thread" or t == "userdata" then return nil end
    if t == "string" then
      copy_budget = copy_budget - #v
      if copy_budget < 0 then error(TOO_BIG) end
    end
    return v
  end
  local mt = rawgetmt(v)
  if mt == CHAN then return v end
  if mt == ERR then
    return setmetatable({ k = v.k, m = v.m, r = v.r, d = deepcopy(v.d, seen), s = v.s }, ERR)
  end
  seen = seen or {}
  local c = seen[v]
  if c then return c end
  c = {}
  seen[v] = c
  for k, val in next, v do
    copy_budget = copy_budget - 16
    c[deepcopy(k, seen)] = deepcopy(val, seen)
  end
  if mt ~= nil and type(mt) == "table" then setmetatable(c, mt) end
  return c
end

---------------------------------------------------------------------------------------
-- tasks and the run queue

local SYS = {} -- marker of a runtime yield (passes through user coroutines)
local BLOCK = {} -- the task is parked somewhere that will wake it
local procs = {} -- pid -> process record
local rq, rq_head, rq_tail = {}, 1, 0
local current -- process record of the running task
local current_task
local deadlock_check = {}

-- Processes this shard spawns on its own host are numbered from a block of unique IDs
-- the node reserved for it and registered with the node in one call (REG.sync) when the
-- shard goes idle (see run_batch), or earlier before any call into Python that could
-- carry a PID out of the shard; one that ends before that never costs a call into
-- Python. `room`: how many more of them `Scheduler.place` lets this shard keep (nil: not
-- asked yet). Placement counts processes, but most children of a burst may end before
-- they are ever registered (a child that replies and returns): `share` is the part of
-- recent pending processes that lived to be registered (`lived` against `ended`, both
-- decayed), and a pending process counts as that much. A burst of short-lived children
-- then stays with its spawner, long-lived ones still spread (see docs/engine.md).
local REG = { set = {}, n = 0, age = 0, room = nil, uniq = 1, last = 0, host = nil, prefix = nil,
  lived = 1, ended = 0, share = nil }

-- register the pending processes (unless `keep`: only new PIDs are wanted) and learn
-- the room left; `want_pids`: take a new block of unique numbers too; `started_only`:
-- leave those that have not run yet for a later sync (a burst of short-lived children
-- waiting in the run queue mostly ends before it)
function REG.sync(want_pids, keep, started_only)
  local blob = nil
  if not keep then
    local parts, k = {}, 0
    local set = REG.set
    for p in next, set do
      local t = started_only and p.main
      local an = t and t.an
      -- (a first resume: with its arguments in the task record, or still holding a list)
      if not (an and (an < -1 or (an == -1 and t[3] ~= nil))) then
        parts[k + 1] = p.pid
        parts[k + 2] = p.entry
        k = k + 2
        if started_only then set[p] = nil end -- (clearing a field while next() walks is allowed)
      end
    end
    if k > 0 then
      blob = table_concat(parts, "\0")
      if started_only then REG.n = REG.n - k // 2 else REG.set, REG.n = {}, 0 end
    end
    REG.age = 0
    REG.lived = REG.lived + k // 2
  end
  local room, first, count = H.register(blob, want_pids)
  room = room - REG.n * REG.learn() -- (the node does not count the pending ones yet)
  REG.room = room > 0 and room or 0
  if first then REG.uniq, REG.last = first, first + count - 1 end
end

-- the share of pending processes that lived to be registered (against those that ended
-- first), over about the last 128 of them; kept until the counts change
function REG.learn()
  local lived, ended = REG.lived, REG.ended
  local sum = lived + ended
  if sum > 128 then lived, ended = lived * 128 / sum, ended * 128 / sum end
  local share = lived / (lived + ended)
  REG.lived, REG.ended, REG.share = lived, ended, share
  return share
end

-- a pending process ended before it was registered: nobody outside the shard knows it,
-- so its end is not reported either (true when p was pending)
function REG.drop(p)
  if not REG.set[p] then return false end
  REG.set[p] = nil
  REG.n = REG.n - 1
  REG.ended, REG.share = REG.ended + 1, nil
  p.reported = true
  return true
end

-- whether values about to leave the shard may name a process the node does not know yet:
-- the PID of a pending process (or a pending caller), a table, or text holding a PID of
-- this host (all pending PIDs start with REG.prefix; a lone PID not in `procs` is not ours)
function REG.leaks(...)
  local prefix = REG.prefix
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local tv = type(v)
    if tv == "string" then
      local at = string_find(v, prefix, 1, true)
      if at then
        local p = procs[v]
        if p then
          if REG.set[p] then return true end
        elseif at ~= 1 or #v > #prefix + 12 or string_byte(v, #v) ~= 125 then
          return true
        end
      end
    elseif tv == "table" or tv == "userdata" then
      return true
    end
  end
  return false
end

-- every call that can carry a value out of the shard registers pending spawns first when
-- it might name one (H.exit: see finish_process)
for _, name in ipairs({ "spawn", "spawn_args", "post", "post_values", "resolve",
  "topology", "names", "command" }) do
  local f = H[name]
  H[name] = function(...)
    if REG.n > 0 and REG.leaks(...) then REG.sync(false) end
    return f(...)
  end
end

local function wake(t, ...)
  -- make a parked task runnable with the values its blocking call returns
  -- (up to two values ride in t[1], t[2]: most wake-ups carry `v, ok` or `value, err`;
  -- more go as a list in t[3])
  if t.p.dead then return end
  local n = select("#", ...)
  if n <= 2 then
    t.an = n
    t[1], t[2] = ...
  else
    t.an = -1
    t[3] = table.pack(...)
  end
  rq_tail = rq_tail + 1
  rq[rq_tail] = t
end

local function block()
  -- park the running task until someone calls wake(task, ...)
  return co_yield(SYS, BLOCK)
end

---------------------------------------------------------------------------------------
-- preemption: compiled code calls __wpre() when a budget of 1000 loop iterations is spent
-- (per function for while/repeat/generic for, per shard for numeric for: forloop.lua);
-- a task that has run longer than its slice yields back to the run queue, so one busy
-- process cannot hold its shard (and the processes sharing it) for long.

local PREEMPT = {}
local SLICE = 0.001 -- seconds a task may run before a safepoint yields it
local slice_task, slice_start = nil, 0
-- iterations between two safepoint calls: 1,000 when a task starts its slice, doubled
-- while the calls come less than 50 us apart (up to 16,000): a tight loop reads the clock
-- (a call into Python, which takes the GIL the other workers need too) about every
-- 50-100 us instead of every few microseconds
local slice_clock = { budget = 1000, at = 0 }
local last_run -- the process whose task ran last (the likely allocator when memory runs out)
local no_preempt = 0 -- > 0 while chunks run their top level (not inside a task)

local function wpre()
  local t = current_task
  if t == nil or no_preempt > 0 then return 1000 end
  local now = H.mono()
  local clock = slice_clock
  if slice_task ~= t then
    slice_task, slice_start = t, now
    clock.budget, clock.at = 1000, now
    return 1000
  end
  local budget = clock.budget
  if now - clock.at < 0.00005 and budget < 16000 then
    budget = budget * 2
    clock.budget = budget
  end
  clock.at = now
  if now - slice_start >= SLICE and co_isyieldable() then
    slice_task = nil
    co_yield(SYS, PREEMPT)
  end
  return budget
end
M.wpre = wpre -- numeric `for` chunks (forloop.lua) share the safepoint
local MAX_MESSAGE = 64 * 1024 * 1024
local MAX_INBOX = 1000000
function M.set_limits(slice, max_message, max_inbox)
  SLICE = slice
  MAX_MESSAGE = max_message
  MAX_INBOX = max_inbox
end

---------------------------------------------------------------------------------------
-- timers: a binary heap per shard; Python is told the next deadline

local theap, tseq = {}, 0

local function theap_push(tm)
  local n = #theap + 1
  theap[n] = tm
  while n > 1 do
    local parent = n // 2
    local a, b = theap[parent], tm
    if a.at < b.at or (a.at == b.at and a.seq < b.seq) then break end
    theap[parent], theap[n] = tm, a
    n = parent
  end
end

local function theap_pop()
  local top = theap[1]
  local n = #theap
  local last = theap[n]
  theap[n] = nil
  n = n - 1
  if n > 0 then
    theap[1] = last
    local i = 1
    while true do
      local l, r = 2 * i, 2 * i + 1
      local m = i
      if l <= n and (theap[l].at < theap[m].at or (theap[l].at == theap[m].at and theap[l].seq < theap[m].seq)) then m = l end
      if r <= n and (theap[r].at < theap[m].at or (theap[r].at == theap[m].at and theap[r].seq < theap[m].seq)) then m = r end
      if m == i then break end
      theap[i], theap[m] = theap[m], theap[i]
      i = m
    end
  end
  return top
end

local function add_timer(delay_s, fire, owner)
  tseq = tseq + 1
  local tm = { at = H.mono() + delay_s, seq = tseq, fire = fire, p = owner, live = true }
  theap_push(tm)
  return tm
end

local function fire_timers()
  if theap[1] == nil then return end
  local now = H.mono()
  while theap[1] and theap[1].at <= now do
    local tm = theap_pop()
    if tm.live and not (tm.p and tm.p.dead) then
      tm.live = false
      tm.fire(tm, now)
    end
  end
end

---------------------------------------------------------------------------------------
-- channels (process-local; resolved entirely in Lua)

CHAN = {}
CHAN.__index = CHAN
CHAN.__name = "channel"
CHAN.__metatable = false

-- A channel handed to Lua code is an empty handle; its state lives in CS, out of reach
-- (waiter queues hold task records, and an owned channel knows its process).
local CS = setmetatable({}, { __mode = "k" })

local function new_channel(size)
  if size ~= nil and (type(size) ~= "number" or size < 0) then
    error("channel size must be a non-negative number", 3)
  end
  size = math_floor(size or 0)
  local ch = setmetatable({}, CHAN)
  -- Tasks waiting to receive queue in the state's own array part (s[1], s[2], ...: one
  -- table less per channel). Only a buffered channel has a capacity, a buffer and its
  -- indices (cap, buf, bh, bt: `s.cap` is nil for an unbuffered one); the send queue
  -- (sendq) is made when someone first blocks sending. An unbuffered channel's state
  -- starts empty, an inbox's has two fields (owner and sub): two hash slots, and inboxes
  -- are per-process memory.
  if size > 0 then
    CS[ch] = { cap = size, buf = {}, bh = 1, bt = 0 }
  else
    CS[ch] = {}
  end
  return ch
end

local function q_push(q, w) q[#q + 1] = w end
local function q_pop_live(q)
  -- first waiter whose task is alive and whose select has not already fired
  while true do
    local w = q[1]
    if w == nil then return nil end
    if q[2] == nil then q[1] = nil else table_remove(q, 1) end -- (mostly a single waiter)
    if not (w.t or w).p.dead and not (w.sel and w.sel.done) then return w end
  end
end

local function buf_push(s, v) s.bt = s.bt + 1; s.buf[s.bt] = v end
local function buf_pop(s)
  local v = s.buf[s.bh]
  s.buf[s.bh] = nil
  s.bh = s.bh + 1
  return v
end

local message_value -- defined with processes

-- complete a waiting receiver (plain or select) with a value
local function finish_recv(w, v, ok)
  if w.sel then
    w.sel.done = true
    wake(w.t, { channel = w.ch, value = v, ok = ok })
  else
    local t = w.t or w -- (a task parked in a plain receive is its own record)
    if t.p.dead then return end
    t.an, t[1], t[2] = 2, v, ok
    rq_tail = rq_tail + 1
    rq[rq_tail] = t
  end
end

local function finish_send(w, okv, err)
  if w.sel then
    w.sel.done = true
    wake(w.t, { channel = w.ch, value = w.v, ok = okv })
  else
    wake(w.t, okv, err)
  end
end

-- non-blocking send attempt; returns true when the value was taken
local function try_send(ch, v)
  local s = CS[ch]
  if s.closed then return false end
  local w = s[1] and q_pop_live(s)
  if w then finish_recv(w, v, true); return true end
  if s.cap and s.bt - s.bh + 1 < s.cap then buf_push(s, v); return true end
  return false
end

-- non-blocking receive attempt; returns got, value, ok
local function try_recv(ch, s)
  local sq = s.sendq
  if s.cap and s.bt >= s.bh then
    local v = buf_pop(s)
    local w = sq and sq[1] and q_pop_live(sq)
    if w then buf_push(s, w.v); finish_send(w, true) end
    return true, v, true
  end
  local w = sq and sq[1] and q_pop_live(sq)
  if w then finish_send(w, true); return true, w.v, true end
  local pend = s.pend
  if pend and pend.h <= pend.t then
    -- a process-owned channel (inbox, events, listen): messages routed here wait in order
    local h = pend.h
    local m = pend[h]
    if h == pend.t then s.pend = nil else pend[h] = nil; pend.h = h + 1 end -- (see fifo)
    s.owner.backlog = s.owner.backlog - 1
    return true, message_value(s.sub, m), true
  end
  if s.closed then return true, nil, false end
  return false
end

function CHAN:send(v)
  local s = CS[self]
  if s == nil then error("bad channel", 2) end
  if s.closed then error("send on closed channel", 2) end
  if try_send(self, v) then return true end
  local t = current_task
  local p = t.p
  p.chanwait = p.chanwait + 1
  if s.sendq == nil then s.sendq = {} end
  q_push(s.sendq, { t = t, v = v, ch = self })
  local ok, err = block()
  p.chanwait = p.chanwait - 1
  if ok == nil and err then error(err, 2) end
  return true
end

function CHAN:receive()
  local s = CS[self]
  if s == nil then error("bad channel", 2) end
  local pend = s.pend
  if pend ~= nil then
    -- a process-owned channel (inbox, events, listen) with a message waiting and no
    -- sender parked (one would come first): try_recv's last case, inline (a shared helper
    -- for the two cost 3 % of a fan-in child: 33.0-33.9 k instructions against 31.8-32.1 k)
    local h = pend.h
    if h <= pend.t and s.sendq == nil and not s.cap then
      local m = pend[h]
      if h == pend.t then s.pend = nil else pend[h] = nil; pend.h = h + 1 end -- (see fifo)
      s.owner.backlog = s.owner.backlog - 1
      return message_value(s.sub, m), true
    end
  end
  if (s.cap and s.bt >= s.bh) or (s.sendq ~= nil and s.sendq[1] ~= nil) or (pend ~= nil and pend.h <= pend.t)
      or s.closed then
    local got, v, ok = try_recv(self, s)
    if got then return v, ok end
  end
  -- nothing to take: park
  local t = current_task
  local p = t.p
  p.chanwait = p.chanwait + 1
  -- a plain receive waits in one queue at a time, so the task is its own waiter record
  -- (a record of select or send names its task in w.t; a task has none: `w.t or w`)
  s[#s + 1] = t
  local v, ok = co_yield(SYS, BLOCK) -- parked until a sender hands it a value
  p.chanwait = p.chanwait - 1
  return v, ok
end

local function close_channel(ch)
  local s = CS[ch]
  if s.closed then return end
  s.closed = true
  local w = q_pop_live(s)
  while w do
    finish_recv(w, nil, false)
    w = q_pop_live(s)
  end
  local sq = s.sendq
  w = sq and q_pop_live(sq)
  while w do
    if w.sel then finish_send(w, false) else wake(w.t, nil, "send on closed channel") end
    w = q_pop_live(sq)
  end
end

function CHAN:close()
  local s = CS[self]
  if s == nil then error("bad channel", 2) end
  if s.owner then error("cannot close a process-owned channel", 2) end
  close_channel(self)
end

local CASE = {}
CASE.__index = CASE
function CHAN:case_receive()
  if CS[self] == nil then error("bad channel", 2) end
  return setmetatable({ ch = self, recv = true }, CASE)
end
function CHAN:case_send(v)
  if CS[self] == nil then error("bad channel", 2) end
  return setmetatable({ ch = self, recv = false, v = v }, CASE)
end

local function channel_select(cases)
  if type(cases) ~= "table" then error("select requires a table of cases", 2) end
  local list = {}
  for _, c in ipairs(cases) do
    if rawgetmt(c) == CASE and CS[c.ch] then list[#list + 1] = c end
  end
  -- first ready case in table order
  for i = 1, #list do
    local c = list[i]
    local ch = c.ch
    if c.recv then
      local got, v, ok = try_recv(ch, CS[ch])
      if got then return { channel = ch, value = v, ok = ok } end
    else
      if CS[ch].closed then error("send on closed channel", 2) end
      if try_send(ch, c.v) then return { channel = ch, value = c.v, ok = true } end
    end
  end
  if cases.default then return { default = true, ok = true } end
  local t = current_task
  local p = t.p
  local sel = { done = false }
  for i = 1, #list do
    local c = list[i]
    local s = CS[c.ch]
    if c.recv then q_push(s, { t = t, ch = c.ch, sel = sel })
    else
      if s.sendq == nil then s.sendq = {} end
      q_push(s.sendq, { t = t, ch = c.ch, sel = sel, v = c.v })
    end
  end
  if #list == 0 then
    p.stuck = true
    deadlock_check[#deadlock_check + 1] = p
  else
    p.chanwait = p.chanwait + 1
  end
  local r = block()
  if #list > 0 then p.chanwait = p.chanwait - 1 end
  return r
end

local channel_mod = {
  new = function(size) return new_channel(size) end,
  select = channel_select,
}

---------------------------------------------------------------------------------------
-- runtime yields: external commands completed by Python

local function ext_command(name, ...)
  local t = current_task
  local p = t.p
  local tag = (p.tagseq or 0) + 1
  p.tagseq = tag
  local r = table.pack(H.command(p.pid, tag, name, ...))
  if r[1] then return table_unpack(r, 2, r.n) end
  M.pending_of(p)[tag] = t
  p.npending = (p.npending or 0) + 1
  return block()
end

M.INBOX_SUB = { message = true } -- how every inbox delivers (shared: never changed)

-- the table of a process's parked commands by tag, made on first use
function M.pending_of(p)
  local pend = p.pending
  if pend == nil then pend = {}; p.pending = pend end
  return pend
end

local function sleep_ns(ns)
  if type(ns) ~= "number" or ns <= 0 then return end
  local t = current_task
  local p = t.p
  p.npending = (p.npending or 0) + 1
  add_timer(ns / 1e9, function() p.npending = p.npending - 1; wake(t) end, p)
  block()
end

-- Timers handed to modules keep their state (owner process, heap entry) out of reach
-- of Lua code, like channels do.
local TIMER = {}
TIMER.__index = TIMER
local TS = setmetatable({}, { __mode = "k" })

local function timer_fire(tmr)
  local st = TS[tmr]
  local v = st.make(H.wall_ns())
  try_send(st.channel, v)
  if st.period > 0 then
    st.tm = add_timer(st.period / 1e9, function() timer_fire(tmr) end, st.p)
  else
    st.live = false
    close_channel(st.channel)
  end
end

function TIMER:stop()
  local st = TS[self]
  if st and st.live then
    st.live = false
    st.tm.live = false
    if st.period == 0 then close_channel(st.channel) end
    return true
  end
  return false
end
function TIMER:reset(ns)
  local st = TS[self]
  if not st then return false end
  local was = st.live
  st.tm.live = false
  st.live = true
  local me = self
  st.tm = add_timer(ns / 1e9, function() timer_fire(me) end, st.p)
  return was
end

local function new_timer(ns, period_ns, make)
  local ch = new_channel(1)
  local tmr = setmetatable({ channel = ch }, TIMER)
  local st = { channel = ch, period = period_ns or 0, live = true, p = current,
    make = make or function(w) return w end }
  TS[tmr] = st
  st.tm = add_timer((ns or 0) / 1e9, function() timer_fire(tmr) end, st.p)
  return tmr
end

---------------------------------------------------------------------------------------
-- coroutines: user coroutines pass runtime yields through to the task

local function resume_through(co, ...)
  local r = table.pack(co_resume(co, ...))
  while r[1] and r[2] == SYS and co_status(co) == "suspended" do
    -- a runtime yield from inside the user coroutine: forward it to our own resumer
    local back = table.pack(co_yield(table_unpack(r, 2, r.n)))
    r = table.pack(co_resume(co, table_unpack(back, 1, back.n)))
  end
  return table_unpack(r, 1, r.n)
end

-- A process's main task gets no coroutine of its own until it first yields: it starts
-- in the shard's runner, a coroutine that calls one main function after another (see
-- run_task). A process that runs to its end without blocking (a worker that replies and
-- returns) then never makes a coroutine, its stack and its call records; one that
-- yields keeps the runner it started in, and the next main task starts in a new one.
-- `coroutine.spawn` tasks get their own coroutine at once (it is returned to the caller).

-- A task record: co (its coroutine; false: not started), fn (a main task's function),
-- p (its process), an (what its next resume passes: see run_task) in four hash slots,
-- and the values of that resume in its array part: t[1], t[2], and t[3] (a third value,
-- or a list of them). Parked in a plain receive, the task is its own waiter record.

-- the main task of process p running fn; `args` (a list with n, or nil) is what it gets,
-- or, without a list, the n (0-3) values a1, a2, a3 (held in the task record; `an`
-- -2 - n tells run_task's first resume how many).
-- a new task of process p joins the run queue
local function add_task(p, t)
  p.ntasks = p.ntasks + 1
  rq_tail = rq_tail + 1
  rq[rq_tail] = t
  return t
end

local function spawn_task(p, fn, args, n, a1, a2, a3)
  if n == nil then
    return add_task(p, { nil, nil, args, co = false, fn = fn, p = p, an = args and -1 or -2 })
  elseif n < 3 then
    return add_task(p, { a1, a2, nil, co = false, fn = fn, p = p, an = -2 - n })
  end
  return add_task(p, { a1, a2, a3, co = false, fn = fn, p = p, an = -5 })
end

local coroutine_mod = {
  create = co_create,
  resume = function(co, ...) return resume_through(co, ...) end,
  yield = co_yield,
  status = co_status,
  running = function()
    local co, ismain = co_running()
    -- (a task's own coroutine handed to the user is never reused as a runner)
    if current_task ~= nil and co == current_task.co then current_task.exposed = true end
    return co, ismain
  end,
  isyieldable = co_isyieldable,
  close = co_close,
  wrap = function(fn)
    local co = co_create(fn)
    return function(...)
      local r = table.pack(resume_through(co, ...))
      if r[1] then return table_unpack(r, 2, r.n) end
      error(r[2], 0)
    end
  end,
  spawn = function(fn)
    if type(fn) ~= "function" then error("coroutine.spawn requires a function", 2) end
    local co = co_create(fn)
    add_task(current, { nil, nil, nil, co = co, p = current, an = 0 })
    return co
  end,
}

---------------------------------------------------------------------------------------
-- messages and the process-side router

local MSG = {}
MSG.__index = MSG
MSG.__name = "message"
-- A message is one table, all in its array part (no key to hash when it is made):
-- { topic, from, n, value 1, ..., value n }.
function MSG:topic() return self[1] end
function MSG:from() return self[2] end
local PAYLOAD = {}
PAYLOAD.__index = PAYLOAD
PAYLOAD.__name = "payload"
PAYLOAD.fmt = "lua/any" -- the format of a payload that names none (most: one field per payload)
-- a payload holds its value in v (or its encoded form in raw) and a format; nothing in
-- its array part (`#payload` is 0: code tells one payload from a list of them that way)
local function new_payload(v, fmt)
  if fmt == nil then return setmetatable({ v = v }, PAYLOAD) end
  return setmetatable({ v = v, fmt = fmt }, PAYLOAD)
end
local function raw_payload(raw, fmt) return setmetatable({ raw = raw, fmt = fmt }, PAYLOAD) end
PAYLOAD.__tostring = function(pl) return "payload{format=" .. pl.fmt .. "}" end
local load_module_late -- set once modules can load
local function module_fn(name, fn)
  local m = load_module_late(name)
  return m and m[fn]
end
local TEXT_FORMATS = { ["json/plain"] = "json", ["yaml/plain"] = "yaml" }
function PAYLOAD:data()
  local v = self.v
  if v ~= nil or self.raw == nil then return v end
  local codec = TEXT_FORMATS[self.fmt]
  if codec then
    local v, err = module_fn(codec, "decode")(self.raw)
    if err then return nil, err end
    return v
  end
  if self.fmt == "application/msgpack" then return decode(self.raw) end
  return self.raw
end
function PAYLOAD:get_format() return self.fmt end
function PAYLOAD:unmarshal() return (self:data()) end
function PAYLOAD:transcode(fmt)
  if fmt == self.fmt then return self, nil end
  local v, derr = self:data()
  if derr then return nil, derr end
  if fmt == "lua/any" or fmt == "golang/any" then return new_payload(v, fmt), nil end
  if fmt == "golang/error" then return new_payload(to_error(v), fmt), nil end
  local codec = TEXT_FORMATS[fmt]
  if codec then
    local raw, err = module_fn(codec, "encode")(v)
    if raw == nil then return nil, err end
    return raw_payload(raw, fmt), nil
  end
  if fmt == "text/plain" or fmt == "application/octet-stream" then
    if type(v) == "table" then return nil, new_error("Internal", "cannot transcode a table to " .. fmt, false) end
    return raw_payload(tostring_w(v), fmt), nil
  end
  if fmt == "application/msgpack" then return raw_payload(encode(v), fmt), nil end
  return nil, new_error("Internal", "unsupported payload format: " .. tostring_raw(fmt), false)
end
PAYLOAD.__wippy_encode = function(pl) return (pl:data()) end
function MSG:payload()
  local n = self[3]
  if n == 1 then return setmetatable({ v = self[4] }, PAYLOAD) end -- (new_payload, inline)
  local t = {}
  for i = 1, n do t[i] = new_payload(self[i + 3]) end
  return t
end
MSG.__tostring = function(m) return "message(" .. tostring_raw(m[1]) .. ")" end
MSG.__wippy_encode = function(m)
  return { topic = m[1], from = m[2], payload = { n = m[3], table_unpack(m, 4, 3 + m[3]) } }
end

local payload_mod = {
  format = { JSON = "json/plain", YAML = "yaml/plain", STRING = "text/plain", BYTES = "application/octet-stream",
    MSGPACK = "application/msgpack", LUA = "lua/any", GOLANG = "golang/any", ERROR = "golang/error" },
  new = function(v)
    if is_error(v) then return new_payload(v, "golang/error") end
    return new_payload(v, "lua/any")
  end,
}

-- What a receiver of an owned channel gets for a message: the event (events channel),
-- the message itself (inbox, and listen with message = true: a queued message is its
-- own message object, one allocation per message) or its payload values.
message_value = function(sub, m)
  if m[1] == "@events" then return m[4] end
  if sub.message then return m end
  local n = m[3]
  if n == 1 then return m[4] end
  local t = {}
  for i = 1, n do t[i] = m[i + 3] end
  return t
end

-- Messages of a process wait in one of two kinds of queue: `p.mq` holds those whose
-- topic has no route yet (nobody listens and there is no inbox), and each owned channel
-- keeps `pend` in its state, the messages routed to it that no receiver has taken. Both are
-- FIFO with head/tail indices (so a burst of N messages costs O(N), not O(N^2)) and made
-- when first needed. A channel's `pend` goes again when its last message is taken: a
-- process whose receiver is waiting when its messages come never reads an empty queue.
local function fifo() return { h = 1, t = 0 } end
local function fifo_put(q, v) q.t = q.t + 1; q[q.t] = v end

-- route one message (events channel, a listen subscription, else the inbox): hand it
-- over now, queue it on its channel, or report that it has no route yet
local place
do
  local INBOX_SUB = M.INBOX_SUB
  place = function(p, m)
    local topic = m[1]
    local ch, sub
    if topic == "@events" then
      ch = p.events_ch
    else
      local subs = p.subs
      sub = subs and subs[topic]
      if sub then ch = sub.ch else ch, sub = p.inbox_ch, INBOX_SUB end
    end
    if not ch then return false end
    local s = CS[ch]
    local pend = s.pend
    if pend == nil or pend.h > pend.t then
      -- nothing queued before it: a waiting receiver or buffer room takes it now (a
      -- closed channel has no receiver waiting: closing wakes them all)
      local q = s -- (its waiting receivers: see new_channel)
      local w = q[1]
      if w ~= nil then
        if w.co ~= nil and #q == 1 then
          -- the usual case, inline: one task parked in a plain receive (its own waiter)
          q[1] = nil
          if not w.p.dead then
            w.an, w[1], w[2] = 2, sub == INBOX_SUB and m or message_value(sub, m), true
            rq_tail = rq_tail + 1
            rq[rq_tail] = w
            return true
          end
        end
        w = q_pop_live(q)
        if w then finish_recv(w, message_value(sub, m), true); return true end
      end
      if s.cap and not s.closed and s.bt - s.bh + 1 < s.cap then buf_push(s, message_value(sub, m)); return true end
    end
    if pend == nil then pend = fifo(); s.pend = pend end -- (made when first needed)
    fifo_put(pend, m)
    p.backlog = p.backlog + 1
    return true
  end
end

-- a new route appeared (inbox, events, listen, unlisten): place what was waiting for one
local function reroute(p, msgs)
  local mq = p.mq
  if mq == nil and msgs == nil then return end
  local rest = fifo()
  for pass = 1, 2 do -- the unrouted queue first, then what the caller hands back
    local q = pass == 1 and mq or msgs
    if q then
      p.backlog = p.backlog - (q.t - q.h + 1)
      for i = q.h, q.t do
        local m = q[i]
        if m and not place(p, m) then fifo_put(rest, m) end
      end
    end
  end
  if rest.h <= rest.t then p.mq = rest else p.mq = nil end
  p.backlog = p.backlog + (rest.t - rest.h + 1)
end

local function fail_process(p, err) end -- forward declaration, set below

-- hand message m to process p: routed now, or kept until a route appears
local function deliver_msg(p, m)
  if not place(p, m) then
    local mq = p.mq
    if mq == nil then mq = fifo(); p.mq = mq end -- (most processes never need one)
    fifo_put(mq, m)
    p.backlog = p.backlog + 1
  end
end

-- `vals` (a fresh list with n that nobody else holds) becomes the message
local function deliver(p, from, topic, vals)
  if topic == "@events" then
    local ev = vals[1]
    if ev and ev.kind == "pid.link.down" and not p.trap then
      fail_process(p, new_error("", "linked process failed"))
      return
    end
  end
  local n = vals.n
  local m
  if n == 1 then m = { topic, from, 1, vals[1] } else m = { topic, from, n, table_unpack(vals, 1, n) } end
  deliver_msg(p, setmetatable(m, MSG))
end

local function owned_channel(p, size, sub)
  local ch
  if size == 0 then
    -- (an inbox or events channel: its state made at once with its two fields)
    ch = setmetatable({}, CHAN)
    CS[ch] = { owner = p, sub = sub }
    return ch
  end
  ch = new_channel(size)
  local s = CS[ch]
  s.owner = p
  s.sub = sub
  return ch
end

---------------------------------------------------------------------------------------
-- processes

local factories = {} -- entry id -> { fn, method, base }
local ENV_BASE -- shared globals (filled by M.setup)
local module_tables = {} -- name -> readonly module
local shard_globals = {}

local function finish_process(p, ok, value, err)
  if p.dead then return end
  p.dead = true
  procs[p.pid] = nil
  p.main = nil -- its coroutine (and what its stack holds) can be collected now
  if p.on_done then
    -- a function execution: its result goes back to the caller inside this shard
    return p.on_done(ok, value, err)
  end
  if REG.drop(p) then return end
  -- release what the process holds
  local okflag = ok and true or false
  local eok, vk, vv = pcall(export, value)
  if not eok then
    okflag, vk, vv = false, 0, nil
    err = new_error("Internal", "the exit value cannot be sent: " .. tostring_raw(vk))
  end
  local errblob = nil
  if err ~= nil then errblob = encode(to_error(err, "Internal")) end
  -- an exit value or error can carry a PID to whoever watches
  if REG.n > 0 and REG.leaks(vv, errblob) then REG.sync(false) end
  p.reported = true
  H.exit(p.pid, okflag, vk, vv, errblob)
end

fail_process = function(p, err)
  finish_process(p, false, nil, err)
end

local run_task
do
  local RUN_DONE = {} -- what a runner yields when the main function it called returned
  local runner = nil -- the shard's idle runner (nil: make one when needed)
  local run_n, run_list -- the call a runner is resumed to make: see run_task
  local done1, done2 -- the two values that main function returned
  -- A runner calls current_task's fn with its run_n arguments (-1: those in run_list),
  -- yields RUN_DONE, and then makes the next call. It keeps no locals, so the function
  -- it calls starts one stack slot above where a coroutine of its own would start it
  -- (see "Stack depth" in docs/engine.md), and nothing of a finished call stays on its
  -- stack while it waits: the two values go out through done1, done2.
  local function runner_body()
    while true do
      if run_n == 2 then done1, done2 = current_task.fn(current_task[1], current_task[2])
      elseif run_n == 0 then done1, done2 = current_task.fn()
      elseif run_n == 1 then done1, done2 = current_task.fn(current_task[1])
      elseif run_n == 3 then done1, done2 = current_task.fn(current_task[1], current_task[2], current_task[3])
      else done1, done2 = current_task.fn(table_unpack(run_list, 1, run_list.n)) end
      if co_yield(RUN_DONE) then return end
    end
  end

  -- a task's function returned `value, second`: a main task's end ends its process
  local function task_done(t, p, value, second)
    p.ntasks = p.ntasks - 1
    if t == p.main then
      -- the process ends and its other tasks die with it
      if second ~= nil and (type(second) == "string" or is_error(second)) then
        finish_process(p, false, nil, second)
      else
        finish_process(p, true, value, nil)
      end
    end
  end

  run_task = function(t)
    local p = t.p
    if p.dead then return end
    current = p
    current_task = t
    slice_task = nil -- each resume starts a fresh time slice
    last_run = p
    local n = t.an
    local co = t.co
    local ok, r2, r3
    if n == 2 then -- (the common wake-up: value, ok)
      ok, r2, r3 = co_resume(co, t[1], t[2])
    elseif not co then
      -- a main task's first run: in the idle runner (a first resume with its 0-3 values
      -- in the record: an = -2 - n, see spawn_task; or a list: an = -1)
      co = runner
      if co == nil then co = co_create(runner_body) else runner = nil end
      t.co = co
      t.an = 0 -- (started: REG.sync tells a process that has not run by its `an`)
      if n < -1 then
        run_n = -2 - n
        ok, r2, r3 = co_resume(co)
        if n == -4 then t[2] = nil elseif n == -5 then t[2], t[3] = nil, nil end
      else
        run_n, run_list, t[3] = -1, t[3], nil
        ok, r2, r3 = co_resume(co)
        run_list = nil
      end
    elseif n == nil or n == 0 then
      ok, r2, r3 = co_resume(co)
    elseif n == 1 then
      ok, r2, r3 = co_resume(co, t[1])
    else
      local ra = t[3]
      t[3] = nil
      ok, r2, r3 = co_resume(co, table_unpack(ra, 1, ra.n))
    end
    -- (whoever queues a task sets t.an; t[1] may hold a message: let it go)
    t[1] = nil
    current_task = nil
    if p.dead then
      done1, done2 = nil, nil -- (it may have ended itself and then returned)
      return
    end
    if not ok then
      -- an uncaught error in any task fails the process
      fail_process(p, r2)
      return
    end
    if r2 == SYS then
      if r3 == PREEMPT then
        -- its time slice ran out: back to the end of the run queue
        t.an = 0
        rq_tail = rq_tail + 1
        rq[rq_tail] = t
        return true
      end
      -- otherwise parked (BLOCK): someone will wake it
      return
    end
    if r2 == RUN_DONE then
      -- the main function returned: its runner waits for the next one (unless the
      -- user holds it: then it ends, as a finished coroutine does)
      r2, r3, done1, done2 = done1, done2, nil, nil
      if t.exposed then co_resume(co, true) elseif runner == nil then runner = co end
      task_done(t, p, r2, r3)
      return
    end
    if co_status(co) == "dead" then -- (a task of coroutine.spawn returned)
      task_done(t, p, r2, r3)
      return
    end
    -- a bare coroutine.yield() in a task: cooperative reschedule
    t.an = 0
    rq_tail = rq_tail + 1
    rq[rq_tail] = t
  end
end

local function make_require(allowed)
  return function(name)
    local v = allowed[name]
    if v == nil then error(string_format("module '%s' not found", tostring_raw(name)), 2) end
    return v
  end
end

local function load_factory(entry_id)
  local f = factories[entry_id]
  if f then return f end
  local code, chunkname, method, modules, imports, kind, pool_limit = H.chunk(entry_id)
  if code == nil then return nil, chunkname end
  local fn, err = load("return function(_ENV, ...) " .. code .. "\nend", "=" .. chunkname, "t", {})
  if not fn then return nil, err end
  fn = fn()
  -- the entry's globals: a flat copy of the shared base (a global is found in two
  -- lookups, not through a chain of proxies) plus listed modules under their names;
  -- processes reach it only as their environment's __index, so it stays unchanged
  local base = {}
  for k, v in pairs(ENV_BASE) do base[k] = v end
  local allowed = {}
  if modules then
    for _, name in ipairs(modules) do
      local m = module_tables[name]
      if m == nil then m = M.load_module(name) end
      if m ~= nil then
        allowed[name] = m
        rawset(base, name, m)
      end
    end
  end
  f = { fn = fn, method = method or "main", base = base, allowed = allowed, imports = imports, kind = kind,
    pool_limit = pool_limit }
  -- a process chunk whose instantiations nobody could tell apart is run once and shared
  -- by every process of the entry (lua/engine/sharing.py); `main` holds its entry function
  if kind == "process.lua" and not imports then f.share = H.shareable(string.dump(fn)) end
  base.require = make_require(allowed)
  f.env_mt = { __index = base, __metatable = false }
  factories[entry_id] = f
  return f
end

local function new_env(f)
  local env = setmetatable({}, f.env_mt)
  env._G = env
  return env
end

local function library_value(lib_id)
  -- run a library.lua chunk for a process: its return value becomes the import
  local lf, err = load_factory(lib_id)
  if not lf then error(err or ("library not found: " .. lib_id)) end
  local env = new_env(lf)
  no_preempt = no_preempt + 1
  local ok, v = pcall(lf.fn, env)
  no_preempt = no_preempt - 1
  if not ok then error(v, 0) end
  return v
end

-- bind a factory's imports into env, run its chunk once and find the entry function
-- (a field of M rather than a local: the prelude's main chunk is near Lua's 200 locals)
function M.instantiate(f, env)
  if f.imports then
    for alias, lib in pairs(f.imports) do
      local ok, v = pcall(library_value, lib)
      if not ok then return nil, v end
      rawset(env, alias, v)
    end
    -- require also sees imports
    local allowed = setmetatable({}, { __index = f.allowed })
    for alias in pairs(f.imports) do allowed[alias] = rawget(env, alias) end
    rawset(env, "require", make_require(allowed))
  end
  no_preempt = no_preempt + 1
  local ok, mod = pcall(f.fn, env)
  no_preempt = no_preempt - 1
  if not ok then return nil, mod end
  local fn
  if type(mod) == "function" then fn = mod
  elseif type(mod) == "table" then fn = mod[f.method] end
  if fn == nil then fn = rawget(env, f.method) end
  if type(fn) ~= "function" then
    return nil, new_error("NotFound", string_format('method "%s" not found in module', f.method))
  end
  return fn
end

-- a PID for a process spawned on this shard's own host, taken without a call into
-- Python, or nil (not a process entry, or placement wants it elsewhere: ask the node)
function REG.take(entry_id)
  if REG.room == 0 then return nil end
  local f = factories[entry_id] or load_factory(entry_id) -- (the common case without a call)
  if f == nil or f.kind ~= "process.lua" then return nil end
  if REG.uniq > REG.last or REG.room == nil then
    REG.sync(true, true)
    if REG.room == 0 then return nil end
  end
  local n = REG.uniq
  REG.uniq = n + 1
  local room = REG.room - (REG.share or REG.learn())
  REG.room = room > 0 and room or 0
  if n > 0xfffff then return string_format("%s0x%05x}", REG.prefix, n) end
  -- (the same text as the format above from two-digit pieces: one concatenation costs a
  -- tenth of string.format)
  local hex = REG.hex
  return REG.prefix0x .. REG.digit[n >> 16] .. hex[(n >> 8) & 255] .. hex[n & 255] .. "}"
end

-- create a process of this shard; args are already copies owned by the new process (or
-- nil, and then its n (0-3) plain arguments a1, a2, a3); `unreg`: its PID came from REG.take
-- (the node learns of it at the next REG.sync)
local function create_process(pid, entry_id, flags, args, ctx, unreg, n, a1, a2, a3)
  local f, err = factories[entry_id], nil
  if f == nil then f, err = load_factory(entry_id) end
  -- Eight hash slots hold what every process has (pid, entry, backlog, ntasks, chanwait,
  -- dead, main, inbox_ch; `dead` is there from the start because every wake-up reads it,
  -- and reading a missing field costs more); the rest (ctx, mq, pending, npending,
  -- tagseq, subs, events_ch, ...) is added when first needed. See docs/engine.md.
  local p = { pid = pid, entry = entry_id, backlog = 0, ntasks = 0, chanwait = 0, dead = false, ctx = ctx }
  procs[pid] = p
  if unreg then
    REG.set[p] = true
    REG.n = REG.n + 1
  end
  if not f then
    fail_process(p, new_error("NotFound", tostring_raw(err or "factory not found")))
    return
  end
  local main = f.main
  if main == nil then
    current = p
    local ierr
    main, ierr = M.instantiate(f, new_env(f))
    if not main then fail_process(p, ierr); return end
    if f.share then f.main = main end
  end
  if args == nil then
    p.main = spawn_task(p, main, nil, n, a1, a2, a3)
    return
  end
  if args.n == nil then args.n = #args end
  p.main = spawn_task(p, main, args)
end

---------------------------------------------------------------------------------------
-- the process module

local function check_topic(topic, verb)
  if type(topic) ~= "string" or topic == "" then return new_error("Invalid", "topic cannot be empty") end
  if string_byte(topic, 1) == 64 then return new_error("Invalid", "cannot " .. verb .. " to @ topics") end
  return nil
end

-- make a fresh value list (n, 1..n) the receiver's own under the size limit: tables are
-- deep-copied in place; nil plus an error when the values are too big
local function copy_list(vals)
  for i = 1, vals.n do vals[i] = deepcopy(vals[i]) end
end

local function copy_values(vals)
  -- scalars only (the common case): nothing to copy and nothing to measure but strings
  local n = vals.n
  if n == 1 then
    local tv = type(vals[1])
    if tv == "number" or tv == "boolean" or tv == "nil" then return vals end
  end
  local size = 0
  for i = 1, n do
    local v = vals[i]
    local tv = type(v)
    if tv == "table" or tv == "function" or tv == "thread" or tv == "userdata" then
      size = nil
      break
    elseif tv == "string" then
      size = size + #v
    end
  end
  if size then
    if size > MAX_MESSAGE then
      return nil, new_error("Invalid", string_format("message exceeds the size limit of %d bytes", MAX_MESSAGE), false)
    end
    return vals
  end
  copy_budget = MAX_MESSAGE
  local ok, cerr = pcall(copy_list, vals)
  copy_budget = math_huge
  if ok then return vals end
  if cerr == TOO_BIG then
    return nil, new_error("Invalid", string_format("message exceeds the size limit of %d bytes", MAX_MESSAGE), false)
  end
  error(cerr, 0)
end

local function inbox_full(target)
  return target.backlog >= MAX_INBOX
end

local function send_local(target, from, topic, vals)
  if target.backlog >= MAX_INBOX then
    return nil, new_error("Unavailable", "inbox full: the receiver has too many unread messages", true)
  end
  local copied, err = copy_values(vals)
  if not copied then return nil, err end
  deliver(target, from, topic, copied)
  return true
end

-- values that cross to another shard as themselves (Python passes them through)
local SCALAR = { ["nil"] = true, boolean = true, number = true, string = true }

local proc_send
do
local checked = {} -- topics that passed the check (a cache: started afresh at 1,000)
local nchecked = 0
local PLAIN = { number = true, boolean = true, ["nil"] = true } -- a value sent as itself

proc_send = function(dest, topic, ...)
  local target = procs[dest]
  if target ~= nil and checked[topic] and target.backlog < MAX_INBOX then
    -- the common case: a checked topic to a process of this shard (procs holds live ones)
    -- with room in its inbox; a message of one plain value (or a string) is built at once,
    -- others after copying their values (a full inbox takes the path below, through
    -- send_local)
    local n = select("#", ...)
    local m
    if n == 1 then
      local tv = type((...))
      if PLAIN[tv] or (tv == "string" and #(...) <= MAX_MESSAGE) then
        m = { topic, current.pid, 1, (...) } -- (sized at once: no copy, nothing to measure)
      end
    end
    if m == nil then
      local vals = { n = n, ... }
      local ok, err = copy_values(vals)
      if not ok then return nil, err end
      m = { topic, current.pid, n, table_unpack(vals, 1, n) }
    end
    -- (a C function called low in the frame: see "Stack depth" in docs/engine.md)
    setmetatable(m, MSG)
    if not place(target, m) then deliver_msg(target, m) end -- (no route yet: it keeps it)
    return true
  end
  if dest == nil or topic == nil then error("send requires at least destination and topic arguments", 2) end
  if type(topic) ~= "string" or topic == "" or string_byte(topic, 1) == 64 then
    return nil, check_topic(topic, "send")
  end
  if nchecked >= 1000 then checked, nchecked = {}, 0 end
  checked[topic] = true
  nchecked = nchecked + 1
  local me = current
  local vals = table.pack(...)
  local target = procs[dest]
  if target and not target.dead then
    return send_local(target, me.pid, topic, vals)
  end
  if type(dest) ~= "string" then return nil, new_error("Invalid", "invalid destination") end
  if string_byte(dest, 1) ~= 123 then
    -- a registered name: resolve first
    local pid, kind, msg = H.resolve(dest)
    if pid == nil then return nil, new_error(kind, msg) end
    target = procs[pid]
    if target and not target.dead then
      return send_local(target, me.pid, topic, vals)
    end
    dest = pid
  end
  -- another shard: at most two scalars cross as themselves, anything else as msgpack
  local n, v1, v2 = vals.n, vals[1], vals[2]
  if n <= 2 and SCALAR[type(v1)] and SCALAR[type(v2)]
      and (type(v1) ~= "string" and 0 or #v1) + (type(v2) ~= "string" and 0 or #v2) <= MAX_MESSAGE
      and H.post_values(me.pid, dest, topic, n, v1, v2) then
    return true
  end
  local blob = encode(vals)
  if #blob > MAX_MESSAGE then
    return nil, new_error("Invalid", string_format("message exceeds the size limit of %d bytes", MAX_MESSAGE), false)
  end
  local tag = (me.tagseq or 0) + 1
  me.tagseq = tag
  local ok, kind, msg = H.post(me.pid, dest, topic, vals.n, blob, tag)
  if ok == "wait" then
    -- a receiver on the Python side pushes back: wait until it takes the message
    local t = current_task
    M.pending_of(me)[tag] = t
    me.npending = (me.npending or 0) + 1
    local sent, err = block()
    if sent then return true end
    return nil, err
  end
  if ok then return true end
  return nil, new_error(kind, msg)
end
end

local SPAWN_MONITOR, SPAWN_LINK = 1, 2

local function do_spawn(flags, opts, id, host, ...)
  local me = current
  local name = opts and opts.name
  local pid, here, extra
  local unreg = false
  if flags == 0 and name == nil and host == REG.host and (factories[id] or type(id) == "string") then
    -- (host is this host's name and id a string: only string keys name a factory)
    pid = REG.take(id)
    unreg = pid ~= nil
    here = unreg
  elseif type(id) ~= "string" or type(host) ~= "string" then
    return nil, new_error("Invalid", "spawn requires at least id and host arguments")
  end
  local n = select("#", ...)
  if unreg and n <= 3 and opts == nil then
    -- the common spawn: on this host, at most three scalar arguments (no list to pack,
    -- check and unpack: the task record holds them until the first resume)
    local a1, a2, a3 = ...
    local t1, t2 = type(a1), type(a2)
    local t3 = n == 3 and type(a3)
    if SCALAR[t1] and SCALAR[t2] and (not t3 or SCALAR[t3]) and (t1 == "string" and #a1 or 0)
        + (t2 == "string" and #a2 or 0) + (t3 == "string" and #a3 or 0) <= MAX_MESSAGE then
      local ctx = me.ctx
      create_process(pid, id, 0, nil, ctx and deepcopy(ctx), true, n, a1, a2, a3)
      current = me
      return pid
    end
  end
  local args = table.pack(...)
  local ctx = me.ctx
  if opts and opts.context then
    local merged = {}
    for k, v in pairs(ctx or {}) do merged[k] = v end
    for k, v in pairs(opts.context) do merged[k] = deepcopy(v) end
    ctx = merged
  end
  if not unreg then
    -- at most three scalar arguments go with the request (a spawn elsewhere needs no second call)
    if args.n <= 3 and SCALAR[type(args[1])] and SCALAR[type(args[2])] and SCALAR[type(args[3])]
        and not ctx and not (opts and opts.messages) then
      pid, here, extra = H.spawn(me.pid, id, host, flags, name, opts and opts.exec_tag, args.n, args[1], args[2],
        args[3])
    else
      pid, here, extra = H.spawn(me.pid, id, host, flags, name, opts and opts.exec_tag)
    end
    if pid == nil then return nil, new_error(here, extra) end
    if here == 0 or (here == false and extra == true) then return pid end -- name taken, or started
    if here == true then REG.room = extra end
  end
  if here == true then
    local copied, cerr = copy_values(args)
    if not copied then
      -- the child has its PID already: end it before it runs
      copied = { n = 0 }
      create_process(pid, id, flags, copied, nil, unreg)
      if procs[pid] then fail_process(procs[pid], cerr) end
      current = me
      return nil, cerr
    end
    create_process(pid, id, flags, copied, ctx and deepcopy(ctx), unreg)
    current = me
    if opts and opts.messages then
      local target = procs[pid]
      for _, m in ipairs(opts.messages) do
        -- (a fresh list: the spawner's may be used again and the message owns its list)
        if target then send_local(target, me.pid, m.topic, { n = m.vals.n, table_unpack(m.vals, 1, m.vals.n) }) end
      end
    end
  else
    H.spawn_args(pid, encode(args), opts and opts.messages and encode(opts.messages) or nil,
      ctx and encode(ctx) or nil)
  end
  return pid
end

local function proc_exec(id, host, ...)
  if type(id) ~= "string" or type(host) ~= "string" then
    return nil, new_error("Invalid", "exec requires at least id and host arguments")
  end
  local t = current_task
  local p = t.p
  local tag = (p.tagseq or 0) + 1
  p.tagseq = tag
  M.pending_of(p)[tag] = t
  p.npending = (p.npending or 0) + 1
  local pid, err = do_spawn(4, { exec_tag = tag }, id, host, ...)
  if pid == nil then
    p.pending[tag] = nil
    p.npending = p.npending - 1
    return nil, err
  end
  return block()
end

local function topo(op, a, b, c)
  local ok, kind, msg = H.topology(op, current.pid, a, b, c)
  if ok then return true end
  return nil, new_error(kind, msg)
end

local SPAWNER = {}
SPAWNER.__index = SPAWNER
local function spawner(opts) return setmetatable({ opts = opts or {} }, SPAWNER) end
local function with(self, key, value)
  local o = {}
  for k, v in pairs(self.opts) do o[k] = v end
  o[key] = value
  return spawner(o)
end
function SPAWNER:with_context(ctx) return with(self, "context", ctx) end
function SPAWNER:with_options(opts) return with(self, "options", opts) end
function SPAWNER:with_actor(a) return with(self, "actor", a) end
function SPAWNER:with_scope(s) return with(self, "scope", s) end
function SPAWNER:with_name(n) return with(self, "name", n) end
function SPAWNER:with_message(topic, ...)
  local msgs = {}
  for i, m in ipairs(self.opts.messages or {}) do msgs[i] = m end
  msgs[#msgs + 1] = { topic = topic, vals = table.pack(...) }
  return with(self, "messages", msgs)
end
function SPAWNER:spawn(id, host, ...) return do_spawn(0, self.opts, id, host, ...) end
function SPAWNER:spawn_monitored(id, host, ...) return do_spawn(SPAWN_MONITOR, self.opts, id, host, ...) end
function SPAWNER:spawn_linked(id, host, ...) return do_spawn(SPAWN_LINK, self.opts, id, host, ...) end
function SPAWNER:spawn_linked_monitored(id, host, ...) return do_spawn(SPAWN_MONITOR + SPAWN_LINK, self.opts, id, host, ...) end
function SPAWNER:exec(id, host, ...) return proc_exec(id, host, ...) end

local process_mod = {
  event = { CANCEL = "pid.cancel", EXIT = "pid.exit", LINK_DOWN = "pid.link.down", OUTDATED = "pid.outdated" },
  pid = function() return current.pid end,
  id = function() return current.entry end,
  send = proc_send,
  spawn = function(id, host, ...) return do_spawn(0, nil, id, host, ...) end,
  spawn_monitored = function(id, host, ...) return do_spawn(SPAWN_MONITOR, nil, id, host, ...) end,
  spawn_linked = function(id, host, ...) return do_spawn(SPAWN_LINK, nil, id, host, ...) end,
  spawn_linked_monitored = function(id, host, ...) return do_spawn(SPAWN_MONITOR + SPAWN_LINK, nil, id, host, ...) end,
  exec = proc_exec,
  terminate = function(dest)
    if dest == nil then error("terminate requires a destination argument", 2) end
    return topo("terminate", dest)
  end,
  cancel = function(dest, reason)
    if dest == nil then error("cancel requires at least destination argument", 2) end
    return topo("cancel", dest, reason ~= nil and tostring_w(reason) or "")
  end,
  monitor = function(dest)
    if dest == nil then error("monitor requires a destination argument", 2) end
    return topo("monitor", dest)
  end,
  unmonitor = function(dest)
    if dest == nil then error("unmonitor requires a destination argument", 2) end
    return topo("unmonitor", dest)
  end,
  link = function(dest)
    if dest == nil then error("link requires a destination argument", 2) end
    return topo("link", dest)
  end,
  unlink = function(dest)
    if dest == nil then error("unlink requires a destination argument", 2) end
    return topo("unlink", dest)
  end,
  get_options = function() return { trap_links = current.trap or false } end,
  set_options = function(opts)
    if type(opts) ~= "table" then return false, new_error("Invalid", "options parameter must be a table") end
    for k, v in pairs(opts) do
      if k == "trap_links" then
        if type(v) ~= "boolean" then return false, new_error("Invalid", "trap_links must be a boolean") end
      else
        return false, new_error("Invalid", string_format("option %s is not supported", tostring_raw(k)))
      end
    end
    if opts.trap_links ~= nil then current.trap = opts.trap_links end
    return true, nil
  end,
  inbox = function()
    local p = current
    if not p.inbox_ch then
      p.inbox_ch = owned_channel(p, 0, M.INBOX_SUB)
      reroute(p)
    end
    return p.inbox_ch
  end,
  events = function()
    local p = current
    if not p.events_ch then
      p.events_ch = owned_channel(p, 0, false)
      reroute(p)
    end
    return p.events_ch
  end,
  listen = function(topic, opts)
    local terr = check_topic(topic, "listen")
    if terr then return nil, terr end
    local p = current
    p.subs = p.subs or {}
    local sub = p.subs[topic]
    if sub then return sub.ch end
    sub = { message = type(opts) == "table" and opts.message == true }
    sub.ch = owned_channel(p, 1, sub)
    p.subs[topic] = sub
    reroute(p)
    return sub.ch
  end,
  unlisten = function(ch)
    local p = current
    if not p.subs then return end
    for topic, sub in pairs(p.subs) do
      if sub.ch == ch then
        p.subs[topic] = nil
        close_channel(ch)
        -- what was waiting on the closed channel falls back to the inbox (or waits)
        local waiting = CS[ch].pend
        CS[ch].pend = nil
        reroute(p, waiting)
        return
      end
    end
  end,
  with_context = function(ctx) return spawner({ context = ctx }) end,
  with_options = function(opts) return spawner({ options = opts }) end,
  registry = {
    LOCAL = 0, EVENTUAL = 1, CONSISTENT = 2, STRONG = 3,
    register = function(name, pid, scope)
      if type(name) ~= "string" or name == "" then return nil, new_error("Invalid", "name must be a non-empty string") end
      local ok, kind, msg = H.names("register", name, pid or current.pid)
      if ok then return true end
      return nil, new_error(kind, msg)
    end,
    lookup = function(name)
      local pid, kind, msg = H.names("lookup", name)
      if pid then return pid end
      return nil, new_error(kind, msg)
    end,
    unregister = function(name)
      return H.names("unregister", name, current.pid) and true or false
    end,
  },
}

---------------------------------------------------------------------------------------
local funcs_mod -- the `funcs` module (built below in its own scope: Lua allows 200 locals per chunk)
do
-- functions: function.lua entries run as executions inside the caller's shard
--
-- A function entry is loaded once per shard (its chunk runs once, so module-level
-- locals persist between calls served here, as a pooled state does in the reference).
-- Each call is an execution: a process-like record with its own tasks and context
-- whose result is handed back to the caller (deep-copied) instead of going to Python.

local fn_instances = {}
local fnseq = 0

function M.forget_function(id) fn_instances[id] = nil end

local function fn_instance(id)
  local inst = fn_instances[id]
  if inst then return inst end
  local f, err = load_factory(id)
  if not f or f.kind ~= "function.lua" then return nil end
  local env = new_env(f)
  local saved = current
  local fn, ierr = M.instantiate(f, env)
  current = saved
  if not fn then return nil, to_error(ierr, "Internal") end
  inst = { env = env, fn = fn, id = id, limit = f.pool_limit or 100, active = 0, queue = fifo() }
  fn_instances[id] = inst
  return inst
end

local function check_target(target)
  if type(target) ~= "string" or target == "" then return new_error("Invalid", "function ID required") end
  local ns, name = target:match("^([^:]*):(.*)$")
  if ns == nil or ns == "" then return new_error("Invalid", "namespace required in function ID") end
  if name == "" then return new_error("Invalid", "name required in function ID") end
  return nil
end

local function no_handler(target)
  return new_error("NotFound", "no handler registered for target", false, { target = target })
end

-- start an execution of `inst`; on_done(ok, value, err) runs when it finishes
-- The entry's pool bounds how many executions run at once in this shard (`pool:` of
-- the entry: static `workers`, lazy/adaptive `max_size`, inline 1; 100 without a pool
-- block); further calls wait in FIFO order.
local pump_calls

local function start_call(inst, job)
  inst.active = inst.active + 1
  fnseq = fnseq + 1
  local p = { pid = string_format("{%s#lua|0x%05x}", inst.id, fnseq), entry = inst.id, env = inst.env,
    backlog = 0, ntasks = 0, chanwait = 0, ctx = job.ctx }
  p.on_done = function(ok, value, err)
    inst.active = inst.active - 1
    job.on_done(ok, value, err)
    pump_calls(inst)
  end
  job.exec = p
  procs[p.pid] = p
  p.main = spawn_task(p, inst.fn, job.args)
end

pump_calls = function(inst)
  local q = inst.queue
  while inst.active < inst.limit and q.h <= q.t do
    local job = q[q.h]
    q[q.h] = nil
    q.h = q.h + 1
    if not job.canceled then start_call(inst, job) end
  end
end

local function run_function(inst, ctx, args, on_done)
  local job = { inst = inst, ctx = ctx, args = args, on_done = on_done }
  fifo_put(inst.queue, job)
  pump_calls(inst)
  return job
end

-- stop a call that is queued or running (timeout, future:cancel)
local function cancel_call(job)
  job.canceled = true
  local p = job.exec
  if p and not p.dead then
    p.dead = true
    procs[p.pid] = nil
    p.main = nil
    job.inst.active = job.inst.active - 1
    pump_calls(job.inst)
  end
end

local function copy_args(...)
  local n = select("#", ...)
  local args = { n = n }
  for i = 1, n do args[i] = deepcopy((select(i, ...))) end
  return args
end

local function merge_ctx(base, extra)
  if not extra then return base end
  local merged = {}
  for k, v in pairs(base or {}) do merged[k] = v end
  for k, v in pairs(extra) do merged[k] = v end
  return merged
end

local function call_with(opts, target, ...)
  local terr = check_target(target)
  if terr then return nil, terr end
  local inst, ierr = fn_instance(target)
  if not inst then return nil, ierr or no_handler(target) end
  local t = current_task
  local caller = t.p
  local ctx = merge_ctx(caller.ctx, opts and opts.context)
  local finished = false
  caller.npending = (caller.npending or 0) + 1
  local exec
  exec = run_function(inst, ctx and deepcopy(ctx), copy_args(...), function(ok, value, err)
    if finished then return end
    finished = true
    caller.npending = caller.npending - 1
    if ok then wake(t, deepcopy(value), nil)
    else wake(t, nil, to_error(err, "Internal")) end
  end)
  local timeout = opts and opts.options and tonumber(opts.options.timeout)
  if timeout and timeout > 0 then
    add_timer(timeout / 1000, function()
      if finished then return end
      finished = true
      caller.npending = caller.npending - 1
      cancel_call(exec)
      wake(t, nil, new_error("Timeout", "function call timed out"))
    end, caller)
  end
  return block()
end

local FUTURE = {}
FUTURE.__index = FUTURE
local FUT_EXEC = setmetatable({}, { __mode = "k" })
FUTURE.__name = "future"
function FUTURE:response() return self.ch end
function FUTURE:channel() return self.ch end
function FUTURE:is_complete() return self.done end
function FUTURE:is_canceled() return self.canceled end
function FUTURE:result()
  if not self.done then return nil, nil end
  if self.err then return nil, self.err end
  return self.value, nil
end
function FUTURE:error()
  if self.err then return self.err, true end
  return nil, false
end
function FUTURE:cancel()
  if self.done then return false, new_error("Invalid", "future already complete") end
  self.done = true
  self.canceled = true
  self.err = new_error("Canceled", "canceled")
  local job = FUT_EXEC[self]
  if job then cancel_call(job) end
  close_channel(self.ch)
  return true, nil
end

local function async_with(opts, target, ...)
  local terr = check_target(target)
  if terr then return nil, terr end
  local fut = setmetatable({ ch = new_channel(1), done = false, canceled = false }, FUTURE)
  local inst, ierr = fn_instance(target)
  if not inst then
    fut.done = true
    fut.err = ierr or no_handler(target)
    try_send(fut.ch, fut.err)
    close_channel(fut.ch)
    return fut
  end
  local caller = current
  local ctx = merge_ctx(caller.ctx, opts and opts.context)
  FUT_EXEC[fut] = run_function(inst, ctx and deepcopy(ctx), copy_args(...), function(ok, value, err)
    if fut.done then return end
    fut.done = true
    if ok then
      fut.value = new_payload(deepcopy(value))
      try_send(fut.ch, fut.value)
    else
      fut.err = to_error(err, "Internal")
      try_send(fut.ch, fut.err)
    end
    close_channel(fut.ch)
  end)
  return fut
end

local EXECUTOR = {}
EXECUTOR.__index = EXECUTOR
local function executor(opts) return setmetatable({ opts = opts }, EXECUTOR) end
local function exec_with(self, key, value, merge)
  local o = {}
  for k, v in pairs(self.opts) do o[k] = v end
  if merge then
    local m = {}
    for k, v in pairs(self.opts[key] or {}) do m[k] = v end
    for k, v in pairs(value or {}) do m[k] = v end
    o[key] = m
  else
    o[key] = value
  end
  return executor(o), nil
end
function EXECUTOR:with_context(ctx) return exec_with(self, "context", ctx, true) end
function EXECUTOR:with_options(o) return exec_with(self, "options", o, true) end
function EXECUTOR:with_actor(a) return exec_with(self, "actor", a) end
function EXECUTOR:with_scope(s) return exec_with(self, "scope", s) end
function EXECUTOR:call(target, ...) return call_with(self.opts, target, ...) end
function EXECUTOR:async(target, ...) return async_with(self.opts, target, ...) end

funcs_mod = {
  call = function(target, ...) return call_with(nil, target, ...) end,
  async = function(target, ...) return async_with(nil, target, ...) end,
  new = function() return executor({}) end,
}

end

---------------------------------------------------------------------------------------
-- incoming items from Python

local function pull_incoming()
  while true do
    local kind, a, b, c, d, e, f, g = H.pull()
    if kind == nil then return end
    if kind == 1 or kind == 7 then
      -- message: to, from, topic, then a blob (kind 1: a packed value list) or the
      -- values themselves (kind 7: n and at most two scalars)
      local p = procs[a]
      if p and not p.dead then
        if inbox_full(p) then
          H.log(a, "warn", "inbox full: message dropped", nil)
        elseif kind == 1 then
          deliver(p, b, c, decode(d))
        else -- (never an event, and plain values: the message is built here at once)
          deliver_msg(p, setmetatable({ c, b, d, e, f }, MSG))
        end
      end
    elseif kind == 2 then
      -- completion: pid, tag, values blob
      local p = procs[a]
      if p and not p.dead then
        local t = p.pending and p.pending[b]
        if t then
          p.pending[b] = nil
          p.npending = p.npending - 1
          local vals = c and decode(c) or { n = 0 }
          wake(t, table_unpack(vals, 1, vals.n or #vals))
        end
      end
    elseif kind == 3 then
      -- spawn: pid, entry id, flags, args blob, initial messages blob
      local args = decode(d) or { n = 0 }
      create_process(a, b, c, args, g and decode(g) or nil)
      if e then
        local p = procs[a]
        if p then
          for _, m in ipairs(decode(e)) do deliver(p, f, m.topic, m.vals) end
        end
      end
    elseif kind == 8 then
      -- spawn with at most three scalar arguments: pid, entry id, flags, n, v1, v2, v3
      create_process(a, b, c, { n = d, e, f, g }, nil)
    elseif kind == 4 then
      -- terminate: pid, reason
      local p = procs[a]
      if p and not p.dead then fail_process(p, new_error("", b or "process terminated")) end
    elseif kind == 5 then
      -- event for @events: pid, from, event blob
      local p = procs[a]
      if p and not p.dead then deliver(p, b, "@events", { n = 1, decode(c) }) end
    elseif kind == 6 then
      -- code changed: forget a cached factory and function instance
      factories[a] = nil
      M.forget_function(a)
    end
  end
end

local function check_deadlocks()
  if #deadlock_check == 0 then return end
  local list = deadlock_check
  deadlock_check = {}
  for _, p in ipairs(list) do
    if not p.dead and p.stuck and p.chanwait == 0 and (p.npending or 0) == 0 then
      -- nothing runnable for this process either
      local runnable = false
      for i = rq_head, rq_tail do
        local t = rq[i]
        if t and t.p == p then runnable = true; break end
      end
      if not runnable and (p.mq == nil or p.mq.h > p.mq.t) and not p.subs and not p.inbox_ch and not p.events_ch then
        fail_process(p, new_error("Internal",
          string_format("deadlock: all coroutines blocked with no pending operations (threads=%d)", p.ntasks)))
      elseif not runnable then
        -- keep an eye on it
        p.stuck = true
      end
    end
  end
end

local BATCH_TIME = 0.01 -- a batch returns to Python after this long (kills, other shards)

-- The minor collection's budget, as a share of the heap: 10 % of a large heap, up to
-- 4 MiB in a small one. A window of 1,000 spawned children holds about 3 MiB until they
-- run; with 10 % of a 2 MiB shard heap every child lived through two minor collections,
-- was promoted and died old, and major collections cleaned up after each window.
-- Checked every 16 batches (a new multiplier counts from the next collection on).
local young_budget
do
  local YOUNG_KB, MAX_MUL, MIN_MUL = 4096, 200, 10 -- (the multiplier is a byte in Lua)
  local mul, batches = MIN_MUL, 0
  young_budget = function()
    batches = batches + 1
    if batches < 16 then return end
    batches = 0
    local want = YOUNG_KB * 100 // collectgarbage("count")
    want = want > MAX_MUL and MAX_MUL or want < MIN_MUL and MIN_MUL or want
    if want ~= mul then
      mul = want
      collectgarbage("generational", mul, mul + 100)
    end
  end
end

function M.run_batch(budget)
  H.owed = false
  pull_incoming()
  fire_timers()
  local n = 0
  local started = H.mono()
  while n < budget do
    for _ = 1, 32 do -- the clock is read after every 32 tasks
      if rq_head > rq_tail then
        pull_incoming()
        fire_timers()
        if rq_head > rq_tail then goto drained end
      end
      local t = rq[rq_head]
      rq[rq_head] = nil
      -- (an emptied queue starts again at 1: a task woken by the one that runs now, as in
      -- ping-pong or a ring, reuses the slot instead of adding a key to the table)
      if rq_head == rq_tail then rq_head, rq_tail = 1, 0 else rq_head = rq_head + 1 end
      if run_task(t) then
        -- a whole time slice went to that task: take in what arrived meanwhile and fire
        -- due timers now, not after 32 such slices (a busy neighbour must not hold up
        -- the messages and timers of the others by more than a slice)
        pull_incoming()
        fire_timers()
        if H.mono() - started > BATCH_TIME then goto drained end
      end
      n = n + 1
      -- the task woke another shard and the worker held back waking an idle one (it
      -- takes that shard itself when this batch ends); with more to run here first,
      -- the idle worker is woken now (Scheduler.submit)
      if H.owed and rq_head <= rq_tail then
        H.owed = false
        H.pay()
      end
    end
    if H.mono() - started > BATCH_TIME then break end
  end
  ::drained::
  if rq_head > rq_tail then
    rq_head, rq_tail = 1, 0
    check_deadlocks()
  end
  current, current_task, slice_task = nil, nil, nil -- keep nothing of a finished process alive
  young_budget()
  local more = rq_head <= rq_tail
  if REG.n > 0 then
    -- registered when the shard goes idle or after a few batches (nobody outside can
    -- address them before: every crossing registers first), so the short-lived children
    -- of a burst of spawns usually end unregistered
    REG.age = REG.age + 1
    if not more or REG.age >= 4 then REG.sync(false, false, more) end
  end
  local nxt = theap[1]
  while nxt and (not nxt.live or (nxt.p and nxt.p.dead)) do
    theap_pop()
    nxt = theap[1]
  end
  return more, nxt and nxt.at or nil, n
end

-- the shard ran out of Lua memory outside a task's own pcall: the running process is
-- the one allocating, so it fails; its memory is then collected
function M.oom()
  local p = current or last_run
  current, current_task, slice_task, last_run = nil, nil, nil, nil
  if p and not p.reported then
    -- it may have died half way (its exit could not be encoded): drop it, collect, report
    p.dead = true
    procs[p.pid] = nil
    p.main = nil
    collectgarbage()
    if p.on_done then
      p.on_done(false, nil, new_error("Internal", "not enough memory"))
    elseif not REG.drop(p) then
      p.reported = true
      H.exit(p.pid, false, 0, nil, encode(new_error("Internal", "not enough memory")))
    end
  end
  collectgarbage()
end

---------------------------------------------------------------------------------------
-- the environment every process starts from

local function logger_print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring_w((select(i, ...))) end
  H.log(current and current.pid or "", "info", table_concat(parts, "\t"), nil)
end

local rt = {
  err = function(kind, message, details) return new_error(kind, message, RETRYABLE[kind] or false, details) end,
  is_error = is_error,
  to_error = to_error,
  yield = ext_command,
  tostring = tostring_w,
  readonly = readonly,
  pid = function() return current and current.pid end,
  sleep = sleep_ns,
  new_timer = new_timer,
  now_ns = function() return H.wall_ns() end,
  mono_ns = function() return math_floor(H.mono() * 1e9) end,
  channel = new_channel,
  encode = encode,
  decode = decode,
  export = export,
  import = import,
  new_payload = new_payload,
  current_entry = function() return current and current.entry end,
  context = function() return current and current.ctx end,
}
M.rt = rt

local native_modules = { funcs = funcs_mod }
load_module_late = function(name) return M.load_module(name) end

local SEALED_MODULES = { time = true, json = true, yaml = true, base64 = true, hash = true, uuid = true,
  io = true, logger = true }

function M.load_module(name)
  local m = module_tables[name]
  if m ~= nil then return m end
  if native_modules[name] then
    m = readonly(native_modules[name], name)
    module_tables[name] = m
    return m
  end
  local src, pyfuncs = H.module(name)
  if src == nil then return nil end
  -- a module's Python functions may carry a PID out of the shard or read the node's view
  -- of its processes: pending spawns are registered first (not for modules whose values
  -- stay in the process or only reach a log or the terminal)
  if not SEALED_MODULES[name] then
    for k, f in pairs(pyfuncs) do
      if type(f) == "userdata" then
        pyfuncs[k] = function(...)
          if REG.n > 0 then REG.sync(false) end
          return f(...)
        end
      end
    end
  end
  local chunk, err = load(src, "=module:" .. name, "t", shard_globals)
  if not chunk then error("module " .. name .. ": " .. tostring_raw(err)) end
  local tbl = chunk(pyfuncs, rt)
  m = readonly(tbl, name)
  module_tables[name] = m
  return m
end

local function restricted_os()
  return {
    time = os.time, date = os.date, clock = os.clock, difftime = os.difftime, platform = "wippy",
  }
end

function M.setup(global_modules, types_lib, wfor, host, pid_prefix)
  REG.host, REG.prefix, REG.prefix0x = host, pid_prefix, pid_prefix .. "0x"
  REG.hex, REG.digit = {}, {}
  for i = 0, 255 do REG.hex[i] = string_format("%02x", i) end
  for i = 0, 15 do REG.digit[i] = string_format("%x", i) end
  -- stdlib copies with the reference's compat names
  local math_t = {}
  for k, v in pairs(math) do math_t[k] = v end
  math_t.pow = function(a, b) return a ^ b end
  math_t.log10 = function(x) return math.log(x, 10) end
  math_t.atan2 = function(y, x) return math.atan(y, x) end
  math_t.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
  math_t.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
  math_t.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
  math_t.ldexp = function(m, e) return m * 2.0 ^ e end
  local table_t = {}
  for k, v in pairs(table) do table_t[k] = v end
  table_t.getn = function(t) return #t end
  local string_t = string

  local base = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
    xpcall = xpcall, rawequal = rawequal, rawget = rawget, rawset = rawset_w, select = select,
    setmetatable = setmetatable_w, getmetatable = getmetatable_w, tonumber = tonumber,
    tostring = tostring_w, type = type, unpack = table_unpack, print = logger_print,
    _VERSION = "Lua 5.1",
    __wcat = wcat,
    __wpre = wpre,
    __wfor = wfor,
    __wm = math_type,
    string = readonly(string_t, "string"),
    table = readonly(table_t, "table"),
    math = readonly(math_t, "math"),
    os = readonly(restricted_os(), "os"),
    coroutine = readonly(coroutine_mod, "coroutine"),
    errors = readonly(errors_mod, "errors"),
    channel = readonly(channel_mod, "channel"),
    process = readonly(process_mod, "process"),
    package = readonly({ loaded = {}, path = "", cpath = "" }, "package"),
    payload = readonly(payload_mod, "payload"),
  }
  base.subscribe = function(...) return M.load_module("events").subscribe(...) end
  base.unsubscribe = function(sub) if sub and sub.close then return sub:close() end end
  base.require = make_require({})
  if types_lib then
    base.__wtype = types_lib.wtype
    if types_lib.type then base.type = types_lib.type end
    if types_lib.typeof then base.typeof = types_lib.typeof end
    for k, v in pairs(types_lib.builtins or {}) do
      if base[k] == nil and k ~= "nil" and k ~= "function" then base[k] = v end
    end
    local string_type = types_lib.builtins and types_lib.builtins.string
    if string_type then
      -- `string` is both the library and the builtin type: calling it validates
      getmetatable(base.string).__call = function(_, ...) return string_type(...) end
    end
  end
  for k, v in pairs(base) do shard_globals[k] = v end
  shard_globals.rt = rt
  for _, name in ipairs(global_modules or {}) do
    local m = M.load_module(name)
    if m then base[name] = m end
  end
  ENV_BASE = readonly(base, "_G")
  protected[base] = true
  -- modules' own chunks see the real stdlib (they are trusted)
  for k, v in pairs({ string = string, table = table, math = math, os = os, coroutine = coroutine_mod,
    errors = errors_mod, pairs = pairs, ipairs = ipairs, type = type, tostring = tostring_w,
    tonumber = tonumber, select = select, error = error, pcall = pcall, next = next,
    setmetatable = setmetatable, getmetatable = getmetatable, rawget = rawget, rawset = rawset,
    assert = assert, channel = channel_mod, process = process_mod, xpcall = xpcall,
    unpack = table_unpack, rawequal = rawequal, print = logger_print, __wcat = wcat, load = load, utf8 = utf8 }) do
    shard_globals[k] = v
  end
end

M.new_error = new_error

return M
