-- The `time` module. Values are plain tables with shared metatables:
--   Time     {s = unix seconds (integer), n = nanoseconds 0..999999999, loc = Location}
--   Duration {ns = integer nanoseconds}
--   Location {name = string, kind = "utc" | "fixed" | "zone", offset = seconds (fixed)}
-- Calendar arithmetic is done here with integers; Go-layout formatting/parsing and
-- zoneinfo lookups go through the Python helpers in `py`.
local py, rt = ...
py.bind(function() return {} end)

local p_format, p_parse, p_take = py.format, py.parse, py.take_error
local p_zone_lookup, p_zone_fixed, p_zone_exists, p_mod = py.zone_lookup, py.zone_fixed, py.zone_exists, py.mod

local type, setmetatable, getmetatable, tonumber = type, setmetatable, getmetatable, tonumber
local math_type, math_floor, math_tointeger = math.type, math.floor, math.tointeger
local string_match = string.match

local NS = 1000000000
local MAXI, MINI = math.maxinteger, math.mininteger
local ZERO_UNIX = -62135596800 -- 0001-01-01T00:00:00Z, Go's zero Time

local time = {}

---------------------------------------------------------------------------- errors

local function invalid(msg) return rt.err("Invalid", msg) end

---------------------------------------------------------------------------- calendar

local function days_from_civil(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = y // 400
    local yoe = y - era * 400
    local mp = m > 2 and m - 3 or m + 9
    local doy = (153 * mp + 2) // 5 + d - 1
    local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
end

local function civil_from_days(z)
    z = z + 719468
    local era = z // 146097
    local doe = z - era * 146097
    local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    local y = yoe + era * 400
    local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    local mp = (5 * doy + 2) // 153
    local d = doy - (153 * mp + 2) // 5 + 1
    local m = mp < 10 and mp + 3 or mp - 9
    if m <= 2 then y = y + 1 end
    return y, m, d
end

---------------------------------------------------------------------------- locations

local Location = {}
Location.__index = Location
Location.__name = "time.Location"

local function new_location(name, kind, offset)
    return setmetatable({ name = name, kind = kind, offset = offset }, Location)
end

function Location:string() return self.name end
Location.__tostring = function(l) return l.name end

local UTC = new_location("UTC", "utc", 0)
local LOCAL = new_location("Local", "zone")
local zones = { UTC = UTC, Local = LOCAL }

local function split_zone(s)
    local off, abbr = string_match(s, "^(-?%d+) (.*)$")
    return math_tointeger(tonumber(off)), abbr
end

do
    local fixed = p_zone_fixed("Local")
    if fixed ~= nil then
        LOCAL.fixed_offset, LOCAL.fixed_abbr = split_zone(fixed)
    end
end

-- offset (seconds east of UTC) and abbreviation of `loc` at unix second `sec`
local function lookup(loc, sec)
    local kind = loc.kind
    if kind == "utc" then return 0, "UTC" end
    if kind == "fixed" then return loc.offset, loc.name end
    if loc.fixed_offset ~= nil then return loc.fixed_offset, loc.fixed_abbr end
    return split_zone(p_zone_lookup(loc.name, sec))
end

-- unix seconds for the civil seconds `civil` (as if UTC) read in `loc` (Go's Date rule)
local function civil_to_unix(loc, civil)
    local off = lookup(loc, civil)
    if off ~= 0 then
        local off2 = lookup(loc, civil - off)
        if off2 ~= off then off = off2 end
        return civil - off
    end
    return civil
end

local function is_location(v) return getmetatable(v) == Location end

---------------------------------------------------------------------------- durations

local Duration = {}
Duration.__index = Duration
Duration.__name = "time.Duration"

local function new_duration(ns) return setmetatable({ ns = ns }, Duration) end
local function is_duration(v) return type(v) == "table" and getmetatable(v) == Duration end

local UNITS = {
    ns = 1, us = 1000, ["\194\181s"] = 1000, ["\206\188s"] = 1000,
    ms = 1000000, s = NS, m = 60 * NS, h = 3600 * NS,
}

local function quote(s) return '"' .. s .. '"' end

-- Go's time.ParseDuration
local function parse_duration_string(orig)
    local s = orig
    local neg = false
    local c = s:sub(1, 1)
    if c == "-" or c == "+" then
        neg = c == "-"
        s = s:sub(2)
    end
    if s == "0" then return 0 end
    if s == "" then return nil, "time: invalid duration " .. quote(orig) end
    local total = 0
    local bad = "time: invalid duration " .. quote(orig)
    while s ~= "" do
        c = s:sub(1, 1)
        if not (c == "." or c:match("%d")) then return nil, bad end
        local int_part = s:match("^%d*")
        s = s:sub(#int_part + 1)
        local frac_part = ""
        local post = false
        if s:sub(1, 1) == "." then
            s = s:sub(2)
            frac_part = s:match("^%d*")
            s = s:sub(#frac_part + 1)
            post = frac_part ~= ""
        end
        if int_part == "" and not post then return nil, bad end
        local unit_name = s:match("^[^%d%.]*")
        if unit_name == "" then return nil, "time: missing unit in duration " .. quote(orig) end
        s = s:sub(#unit_name + 1)
        local unit = UNITS[unit_name]
        if unit == nil then
            return nil, "time: unknown unit " .. quote(unit_name) .. " in duration " .. quote(orig)
        end
        local v = 0
        if int_part ~= "" then
            v = math_tointeger(tonumber(int_part))
            if v == nil or v > (MAXI // unit) then return nil, bad end
        end
        v = v * unit
        if frac_part ~= "" then
            -- float64(f) * (float64(unit) / scale), truncated, as Go does
            local digits = frac_part:sub(1, 18)
            local f = tonumber(digits)
            local scale = 10.0 ^ #digits
            v = v + math_floor(f * (unit / scale))
            if v < 0 then return nil, bad end
        end
        total = total + v
        if total < 0 then return nil, bad end
    end
    if neg then return -total end
    return total
end

-- any accepted duration value -> integer nanoseconds, or nil, error
local function to_ns(v)
    local tv = type(v)
    if tv == "number" then
        if math_type(v) == "integer" then return v end
        if v ~= v or v >= 9.2233720368547758e18 or v < -9.2233720368547758e18 then
            return nil, invalid("duration out of range")
        end
        local i = math_tointeger(v)
        if i ~= nil then return i end
        return v >= 0 and math_floor(v) or -math_floor(-v)
    elseif tv == "string" then
        local ns, msg = parse_duration_string(v)
        if ns == nil then return nil, invalid(msg) end
        return ns
    elseif is_duration(v) then
        return v.ns
    end
    return nil, invalid("invalid duration: expected string, number or Duration, got " .. tv)
end

local function trunc_div(a, b)
    local q = a // b
    if q < 0 and q * b ~= a then q = q + 1 end
    return q
end

-- Go's Duration.String
local function fmt_frac(v, prec)
    -- returns fraction text (".123" without trailing zeros, or "") and v / 10^prec
    local digits = {}
    local printed = false
    for _ = 1, prec do
        local digit = v % 10
        printed = printed or digit ~= 0
        if printed then digits[#digits + 1] = tostring(digit) end
        v = v // 10
    end
    if not printed then return "", v end
    local rev = {}
    for i = #digits, 1, -1 do rev[#rev + 1] = digits[i] end
    return "." .. table.concat(rev), v
end

local function duration_string(d)
    if d == 0 then return "0s" end
    local neg = d < 0
    local u = d
    if neg then u = -d end
    local out
    if u == MINI then
        return "-2562047h47m16.854775808s"
    end
    if u < NS then
        local prec, unit
        if u < 1000 then
            prec, unit = 0, "ns"
        elseif u < 1000000 then
            prec, unit = 3, "\194\181s"
        else
            prec, unit = 6, "ms"
        end
        local frac
        frac, u = fmt_frac(u, prec)
        out = tostring(u) .. frac .. unit
    else
        local frac
        frac, u = fmt_frac(u, 9)
        out = tostring(u % 60) .. frac .. "s"
        u = u // 60
        if u > 0 then
            out = tostring(u % 60) .. "m" .. out
            u = u // 60
            if u > 0 then out = tostring(u) .. "h" .. out end
        end
    end
    if neg then out = "-" .. out end
    return out
end

function Duration:hours()
    local h = trunc_div(self.ns, 3600 * NS)
    return h + (self.ns - h * 3600 * NS) / (3600 * 1e9)
end
function Duration:minutes()
    local m = trunc_div(self.ns, 60 * NS)
    return m + (self.ns - m * 60 * NS) / (60 * 1e9)
end
function Duration:seconds()
    local s = trunc_div(self.ns, NS)
    return s + (self.ns - s * NS) / 1e9
end
function Duration:milliseconds() return trunc_div(self.ns, 1000000) + 0.0 end
function Duration:microseconds() return trunc_div(self.ns, 1000) + 0.0 end
function Duration:nanoseconds() return self.ns + 0.0 end
function Duration:string() return duration_string(self.ns) end
function Duration:abs()
    if self.ns >= 0 then return self end
    if self.ns == MINI then return new_duration(MAXI) end
    return new_duration(-self.ns)
end
function Duration:truncate(m)
    local mns = to_ns(m)
    if mns == nil or mns <= 0 then return self end
    return new_duration(self.ns - math.fmod(self.ns, mns))
end
function Duration:round(m)
    local mns = to_ns(m)
    if mns == nil or mns <= 0 then return self end
    local d = self.ns
    local r = math.fmod(d, mns)
    if d < 0 then
        r = -r
        if r + r < mns then return new_duration(d + r) end
        return new_duration(d - mns + r)
    end
    if r + r < mns then return new_duration(d - r) end
    return new_duration(d + mns - r)
end

Duration.__tostring = function(d) return duration_string(d.ns) end
Duration.__eq = function(a, b) return a.ns == b.ns end
Duration.__lt = function(a, b) return (to_ns(a)) < (to_ns(b)) end
Duration.__le = function(a, b) return (to_ns(a)) <= (to_ns(b)) end
Duration.__unm = function(a) return new_duration(-a.ns) end
Duration.__add = function(a, b) return new_duration((to_ns(a)) + (to_ns(b))) end
Duration.__sub = function(a, b) return new_duration((to_ns(a)) - (to_ns(b))) end

---------------------------------------------------------------------------- times

local Time = {}
Time.__index = Time
Time.__name = "time.Time"

local function new_time(s, n, loc) return setmetatable({ s = s, n = n, loc = loc }, Time) end
local function is_time(v) return type(v) == "table" and getmetatable(v) == Time end

local function norm(s, n)
    if n < 0 or n >= NS then
        s = s + n // NS
        n = n % NS
    end
    return s, n
end

local function to_int(v, name)
    if math_type(v) == "integer" then return v end
    if type(v) == "number" and v == v and v > -9.2e18 and v < 9.2e18 then
        return math_floor(v)
    end
    if type(v) == "string" then
        local num = tonumber(v)
        if num ~= nil then return to_int(num, name) end
    end
    error("bad argument '" .. name .. "' (number expected, got " .. type(v) .. ")", 3)
end

-- broken-down fields in the time's location
local function fields(t)
    local off, abbr = lookup(t.loc, t.s)
    local local_s = t.s + off
    local days = local_s // 86400
    local secs = local_s % 86400
    local y, m, d = civil_from_days(days)
    return y, m, d, secs // 3600, secs % 3600 // 60, secs % 60, days, off, abbr
end

local function make_date(y, mo, d, h, mi, s, ns, loc)
    -- normalise like Go's time.Date
    local m0 = mo - 1
    y = y + m0 // 12
    m0 = m0 % 12
    s, ns = norm(s, ns)
    local civil = (days_from_civil(y, m0 + 1, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + s
    return new_time(civil_to_unix(loc, civil), ns, loc)
end

local function format_time(t, layout)
    local y, m, d, hh, mm, ss, days, off, abbr = fields(t)
    local wday = (days + 4) % 7
    local yday = days - days_from_civil(y, 1, 1) + 1
    return p_format(layout, y, m, d, hh, mm, ss, t.n, wday, yday, off, abbr or "")
end

local function check_time(t, method)
    if not is_time(t) then
        error("bad self for Time:" .. method .. " (use a colon call on a Time)", 3)
    end
end

function Time:add(dur)
    check_time(self, "add")
    local ns, err = to_ns(dur)
    if ns == nil then return nil, err end
    local s, n = norm(self.s + ns // NS, self.n + ns % NS)
    return new_time(s, n, self.loc)
end

function Time:sub(other)
    check_time(self, "sub")
    if not is_time(other) then error("bad argument #1 to 'sub' (Time expected)", 2) end
    local ds = self.s - other.s
    local dn = self.n - other.n
    if ds > 9223372035 or ds < -9223372035 then
        return new_duration(ds > 0 and MAXI or MINI)
    end
    return new_duration(ds * NS + dn)
end

function Time:add_date(years, months, days)
    check_time(self, "add_date")
    local y, m, d, hh, mm, ss = fields(self)
    return make_date(y + to_int(years or 0, "years"), m + to_int(months or 0, "months"),
        d + to_int(days or 0, "days"), hh, mm, ss, self.n, self.loc)
end

local function other_time(t, name)
    if not is_time(t) then error("bad argument #1 to '" .. name .. "' (Time expected)", 3) end
    return t
end

function Time:before(t)
    t = other_time(t, "before")
    return self.s < t.s or (self.s == t.s and self.n < t.n)
end
function Time:after(t)
    t = other_time(t, "after")
    return self.s > t.s or (self.s == t.s and self.n > t.n)
end
function Time:equal(t)
    t = other_time(t, "equal")
    return self.s == t.s and self.n == t.n
end
function Time:compare(t)
    t = other_time(t, "compare")
    if self.s < t.s or (self.s == t.s and self.n < t.n) then return -1 end
    if self.s == t.s and self.n == t.n then return 0 end
    return 1
end

function Time:format(layout)
    check_time(self, "format")
    if type(layout) ~= "string" then error("bad argument #1 to 'format' (string expected)", 2) end
    return format_time(self, layout)
end

function Time:format_rfc3339() return format_time(self, "2006-01-02T15:04:05Z07:00") end
function Time:string() return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST") end
Time.__tostring = function(t) return format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST") end

function Time:unix() return self.s + 0.0 end
function Time:unix_nano() return self.s * 1e9 + self.n end
function Time:unix_milli() return (self.s * 1000 + self.n // 1000000) + 0.0 end
function Time:unix_micro() return (self.s * 1000000 + self.n // 1000) + 0.0 end

function Time:date()
    local y, m, d = fields(self)
    return y, m, d
end
function Time:clock()
    local _, _, _, hh, mm, ss = fields(self)
    return hh, mm, ss
end
function Time:year() return (fields(self)) end
function Time:month()
    local _, m = fields(self)
    return m
end
function Time:day()
    local _, _, d = fields(self)
    return d
end
function Time:hour()
    local _, _, _, hh = fields(self)
    return hh
end
function Time:minute()
    local _, _, _, _, mm = fields(self)
    return mm
end
function Time:second()
    local _, _, _, _, _, ss = fields(self)
    return ss
end
function Time:nanosecond() return self.n end
function Time:weekday()
    local _, _, _, _, _, _, days = fields(self)
    return (days + 4) % 7
end
function Time:year_day()
    local y, _, _, _, _, _, days = fields(self)
    return days - days_from_civil(y, 1, 1) + 1
end
function Time:zone()
    local off, abbr = lookup(self.loc, self.s)
    return abbr, off
end
function Time:is_zero() return self.s == ZERO_UNIX and self.n == 0 end
function Time:utc() return new_time(self.s, self.n, UTC) end
function Time:in_local() return new_time(self.s, self.n, LOCAL) end
function Time:local_time() return new_time(self.s, self.n, LOCAL) end
function Time:in_location(loc)
    if not is_location(loc) then error("bad argument #1 to 'in_location' (Location expected)", 2) end
    return new_time(self.s, self.n, loc)
end
function Time:location() return self.loc end

local function duration_arg(d, name)
    if is_duration(d) then return d.ns end
    local ns = to_ns(d)
    if ns == nil then error("bad argument #1 to '" .. name .. "' (Duration expected)", 3) end
    return ns
end

function Time:truncate(d)
    local ns = duration_arg(d, "truncate")
    if ns <= 0 then return new_time(self.s, self.n, self.loc) end
    local r = p_mod(self.s, self.n, ns)
    local s, n = norm(self.s - r // NS, self.n - r % NS)
    return new_time(s, n, self.loc)
end

function Time:round(d)
    local ns = duration_arg(d, "round")
    if ns <= 0 then return new_time(self.s, self.n, self.loc) end
    local r = p_mod(self.s, self.n, ns)
    local s, n
    if r + r < ns and r + r >= 0 then
        s, n = norm(self.s - r // NS, self.n - r % NS)
    else
        local up = ns - r
        s, n = norm(self.s + up // NS, self.n + up % NS)
    end
    return new_time(s, n, self.loc)
end

Time.__eq = function(a, b) return a.s == b.s and a.n == b.n and a.loc.name == b.loc.name end
Time.__lt = function(a, b) return a.s < b.s or (a.s == b.s and a.n < b.n) end
Time.__le = function(a, b) return a.s < b.s or (a.s == b.s and a.n <= b.n) end

---------------------------------------------------------------------------- constructors

local function from_wall_ns(ns) return new_time(ns // NS, ns % NS, LOCAL) end

function time.now() return from_wall_ns(rt.now_ns()) end

function time.unix(sec, nsec)
    local s
    if math_type(sec) == "float" then
        local whole = math_floor(sec)
        s = math_tointeger(whole) or to_int(whole, "sec")
        nsec = (nsec or 0) + math_floor((sec - whole) * 1e9 + 0.5)
    else
        s = to_int(sec or 0, "sec")
    end
    local n = to_int(nsec or 0, "nsec")
    s, n = norm(s, n)
    return new_time(s, n, LOCAL)
end

function time.unix_milli(ms)
    ms = to_int(ms, "msec")
    return new_time(ms // 1000, ms % 1000 * 1000000, LOCAL)
end

function time.date(y, mo, d, h, mi, s, ns, loc)
    if loc == nil then loc = LOCAL end
    if not is_location(loc) then error("bad argument #8 to 'date' (Location expected)", 2) end
    return make_date(to_int(y, "year"), to_int(mo, "month"), to_int(d, "day"), to_int(h or 0, "hour"),
        to_int(mi or 0, "min"), to_int(s or 0, "sec"), to_int(ns or 0, "nsec"), loc)
end

function time.parse(layout, value, loc)
    if type(layout) ~= "string" then return nil, invalid("layout must be a string") end
    if type(value) ~= "string" then return nil, invalid("value must be a string") end
    if loc ~= nil and not is_location(loc) then return nil, invalid("location must be a Location") end
    local f = p_parse(layout, value)
    if f == nil then return nil, invalid(p_take()) end
    local civil = (days_from_civil(f.year, f.month, 1) + f.day - 1) * 86400 + f.hour * 3600 + f.min * 60 + f.sec
    local ref = loc or UTC
    local off, abbr = f.offset, f.abbr
    if off ~= nil then
        local s = civil - off
        if off == 0 and (abbr == "UTC" or abbr == nil) and ref.kind == "utc" then
            return new_time(s, f.nsec, UTC)
        end
        -- use the reference location when it has this offset at that instant
        local here = loc or LOCAL
        local hoff, habbr = lookup(here, s)
        if hoff == off and (abbr == nil or abbr == habbr) then return new_time(s, f.nsec, here) end
        if off == 0 and abbr == "UTC" then return new_time(s, f.nsec, UTC) end
        return new_time(s, f.nsec, new_location(abbr or "", "fixed", off))
    elseif abbr ~= nil then
        local here = loc or LOCAL
        local guess = civil_to_unix(here, civil)
        local hoff, habbr = lookup(here, guess)
        if habbr == abbr then return new_time(civil - hoff, f.nsec, here) end
        return new_time(civil, f.nsec, new_location(abbr, "fixed", 0))
    end
    return new_time(civil_to_unix(ref, civil), f.nsec, ref)
end

function time.parse_duration(v)
    local ns, err = to_ns(v)
    if ns == nil then return nil, err end
    return new_duration(ns)
end

function time.load_location(name)
    if type(name) ~= "string" then return nil, invalid("location name must be a string") end
    if name == "" then return nil, invalid("location name cannot be empty") end
    local loc = zones[name]
    if loc ~= nil then return loc end
    if not p_zone_exists(name) then
        return nil, rt.err("NotFound", "unknown time zone " .. name)
    end
    loc = new_location(name, "zone")
    local fixed = p_zone_fixed(name)
    if fixed ~= nil then loc.fixed_offset, loc.fixed_abbr = split_zone(fixed) end
    zones[name] = loc
    return loc
end

function time.fixed_zone(name, offset)
    if type(name) ~= "string" then error("bad argument #1 to 'fixed_zone' (string expected)", 2) end
    return new_location(name, "fixed", to_int(offset, "offset"))
end

---------------------------------------------------------------------------- waiting

local function positive(dur)
    local ns, err = to_ns(dur)
    if ns == nil then return nil, err end
    if ns <= 0 then return nil, invalid("duration must be positive, got " .. duration_string(ns)) end
    return ns
end

function time.sleep(dur)
    local ns, err = to_ns(dur)
    if ns == nil then return nil, err end
    if ns > 0 then rt.sleep(ns) end
end

function time.after(dur)
    local ns, err = positive(dur)
    if ns == nil then return nil, err end
    return rt.new_timer(ns, 0, from_wall_ns).channel
end

local Timer = {}
Timer.__index = Timer
Timer.__name = "time.Timer"

function Timer:response() return self._h.channel end
function Timer:channel() return self._h.channel end
function Timer:stop() return self._h:stop() end
function Timer:reset(dur)
    local ns, err = to_ns(dur)
    if ns == nil then return nil, err end
    if ns < 0 then ns = 0 end
    return self._h:reset(ns)
end

function time.timer(dur)
    local ns, err = positive(dur)
    if ns == nil then return nil, err end
    return setmetatable({ _h = rt.new_timer(ns, 0, from_wall_ns) }, Timer)
end

local Ticker = {}
Ticker.__index = Ticker
Ticker.__name = "time.Ticker"

function Ticker:response() return self._h.channel end
function Ticker:channel() return self._h.channel end
function Ticker:stop()
    self._h:stop()
end

function time.ticker(dur)
    local ns, err = positive(dur)
    if ns == nil then return nil, err end
    return setmetatable({ _h = rt.new_timer(ns, ns, from_wall_ns) }, Ticker)
end

---------------------------------------------------------------------------- constants

time.NANOSECOND = 1.0
time.MICROSECOND = 1e3
time.MILLISECOND = 1e6
time.SECOND = 1e9
time.MINUTE = 60e9
time.HOUR = 3600e9

time.LAYOUT = "01/02 03:04:05PM '06 -0700"
time.ANSIC = "Mon Jan _2 15:04:05 2006"
time.UNIX_DATE = "Mon Jan _2 15:04:05 MST 2006"
time.RUBY_DATE = "Mon Jan 02 15:04:05 -0700 2006"
time.RFC822 = "02 Jan 06 15:04 MST"
time.RFC822Z = "02 Jan 06 15:04 -0700"
time.RFC850 = "Monday, 02-Jan-06 15:04:05 MST"
time.RFC1123 = "Mon, 02 Jan 2006 15:04:05 MST"
time.RFC1123Z = "Mon, 02 Jan 2006 15:04:05 -0700"
time.RFC3339 = "2006-01-02T15:04:05Z07:00"
time.RFC3339NANO = "2006-01-02T15:04:05.999999999Z07:00"
time.KITCHEN = "3:04PM"
time.STAMP = "Jan _2 15:04:05"
time.STAMP_MILLI = "Jan _2 15:04:05.000"
time.STAMP_MICRO = "Jan _2 15:04:05.000000"
time.STAMP_NANO = "Jan _2 15:04:05.000000000"
time.DATE_TIME = "2006-01-02 15:04:05"
time.DATE_ONLY = "2006-01-02"
time.TIME_ONLY = "15:04:05"

local MONTHS = { "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
    "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER" }
for i, name in ipairs(MONTHS) do time[name] = i end
local DAYS = { "SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY" }
for i, name in ipairs(DAYS) do time[name] = i - 1 end

time.utc = UTC
time.localtz = LOCAL

return time
