--[[
Runtime type values of Wippy's typed Lua (spec §5.4, internals §14).

The engine loads this chunk once per Lua state. It returns a table:

  {
    wtype    = function(desc, name, registry, tparams) -> type value,
               -- expose it as the global `__wtype`: compiled chunks call it
    builtins = { integer, number, string, boolean, any, unknown, never, table,
                 ["nil"], ["function"] },  -- builtin type values (the engine decides
               -- which names to expose; `string` is also the string library, so the
               -- engine gives that table a __call that delegates to builtins.string)
    is_type  = function(v) -> boolean,
    type     = a drop-in `type()` answering "type" for type values (the reference's
               `type(Point)` is "type"; install it as the global `type`),
    typeof   = function(v) -> type value of a plain value (builtin `typeof`),
    mt       = the metatable shared by every type value,
  }

What the compiler emits for each top-level `type Name<T> = ...` / `interface Name ... end`
(all names are predeclared as locals at the top of the chunk, so references may point
forward):

  Name = __wtype(<descriptor>, "Name", __wt, {"T"} or nil)

`__wt` is a per-chunk table of that chunk's type values; references go through it.
Descriptors are plain Lua data:

  "number" "integer" "string" "boolean" "any" "unknown" "nil" "never" "table" "function"
  {k="lit", v=<value>}                      a literal type
  {k="record", f={{name, D, optional}...}}  {k="array", e=D}   {k="map", key=D, val=D}
  {k="optional", e=D}   {k="union", v={D...}}   {k="inter", v={D...}}
  {k="function", p={param D...}, r={return D...}}   a function type ("function" if unknown)
  {k="ref", n="Name", r=<registry>}         another top-level type of the same chunk
  {k="ann", e=D, min=, max=, min_len=, max_len=, pattern=}   validators
  {k="interface", m={method names}, f={fields as in records}, b={base D...}}

Generic parameters arrive already replaced by "any" (instantiation `Box(number)` returns
Box itself). Type values: `T:is(v)` gives `v, nil` or `nil, "<path>: expected X, got Y"`;
`T(v)` gives v or raises "expected T, got <lua type> (<detail>)"; reflection `:kind()
:name() :elem() :inner() :key() :val() :variants() :fields() :params() :ret() :tparams()`;
`T.field` is a record field's type (method names win over field names); `a <= b` and
`a < b` test (strict) subtyping. Checks are closures built once per type, so validating
costs a few calls per value and nothing is interpreted at check time.
]]

local type, pairs, ipairs, tostring, error, setmetatable, getmetatable, rawget =
    type, pairs, ipairs, tostring, error, setmetatable, getmetatable, rawget
local mtype, floor, huge = math.type, math.floor, math.huge
local sfind, format, ssub = string.find, string.format, string.sub
local pcall = pcall

local TypeMT = {}
local methods = {}

local function is_type(v)
    return getmetatable(v) == TypeMT
end

local function new(t)
    return setmetatable(t, TypeMT)
end

local ANY_CHECK = function() end

-- path of a failure inside a value: record fields dotted, array/map numeric keys bracketed
local function join(key, sub)
    local ks
    if type(key) == "number" then
        ks = "[" .. tostring(key) .. "]"
    else
        ks = tostring(key)
    end
    if sub == nil then
        return ks
    end
    if ssub(sub, 1, 1) == "[" then
        return ks .. sub
    end
    return ks .. "." .. sub
end

local function callable(v)
    if type(v) == "function" then
        return true
    end
    local mt = getmetatable(v)
    return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

local prim_pred = {
    number = function(v) return type(v) == "number" end,
    integer = function(v)
        local mt = mtype(v)
        return mt == "integer" or (mt == "float" and v == floor(v) and v > -huge and v < huge)
    end,
    string = function(v) return type(v) == "string" end,
    boolean = function(v) return type(v) == "boolean" end,
    table = function(v) return type(v) == "table" end,
    ["function"] = callable,
    thread = function(v) return type(v) == "thread" end,
    userdata = function(v) return type(v) == "userdata" end,
    ["nil"] = function(v) return v == nil end,
    any = true,
    unknown = true,
    never = false,
}

local function make_prim(kind, name)
    local pred = prim_pred[kind]
    -- an alias of a builtin keeps the builtin in messages ("expected integer, got number")
    local T = new({_k = kind, _n = name or kind, _d = kind})
    if pred == true then
        T._c = ANY_CHECK
    elseif pred == false then
        T._c = function(v) return "expected " .. T._d .. ", got " .. type(v) end
    else
        T._c = function(v)
            if not pred(v) then
                return "expected " .. T._d .. ", got " .. type(v)
            end
        end
    end
    return T
end

local builtins = {}
for kind in pairs(prim_pred) do
    builtins[kind] = make_prim(kind)
end
local ANY = builtins.any

local function resolve(T)
    local guard = 0
    while T._k == "ref" and guard < 100 do
        T = T._r[T._rn] or ANY
        guard = guard + 1
    end
    return T
end

local build

local function build_fields(list, reg)
    local fields, fmap = {}, {}
    for i, f in ipairs(list or {}) do
        local ft = build(f[2], reg)
        fields[i] = {f[1], ft, f[3]}
        fmap[f[1]] = ft
    end
    return fields, fmap
end

local function check_fields(fields, v)
    for i = 1, #fields do
        local f = fields[i]
        local fv = v[f[1]]
        if fv ~= nil or not f[3] then
            local m, p = f[2]._c(fv)
            if m then
                return m, join(f[1], p)
            end
        end
    end
end

local function display(d)
    local parts = {}
    for i, v in ipairs(d) do
        parts[i] = v._d
    end
    return parts
end

local builders = {}

function builders.lit(d, _, name)
    local v = d.v
    local shown = type(v) == "string" and format("%q", v) or tostring(v)
    local T = new({_k = "literal", _n = name, _d = name or shown, _v = v})
    T._c = function(x)
        if x ~= v then
            return "expected " .. T._d .. ", got " .. type(x)
        end
    end
    return T
end

function builders.record(d, reg, name)
    local fields, fmap = build_fields(d.f, reg)
    local T = new({_k = "record", _n = name, _d = name or "record", _fields = fields, _fmap = fmap})
    T._c = function(v)
        if type(v) ~= "table" then
            return "expected " .. T._d .. ", got " .. type(v)
        end
        return check_fields(fields, v)
    end
    return T
end

function builders.array(d, reg, name)
    local e = build(d.e, reg)
    local T = new({_k = "array", _n = name, _d = name or ("{" .. e._d .. "}"), _e = e})
    T._c = function(v)
        if type(v) ~= "table" then
            return "expected " .. T._d .. ", got " .. type(v)
        end
        local ec = e._c
        if ec == ANY_CHECK then
            return
        end
        for i = 1, #v do
            local m, p = ec(v[i])
            if m then
                return m, join(i, p)
            end
        end
    end
    return T
end

function builders.map(d, reg, name)
    local kt, vt = build(d.key, reg), build(d.val, reg)
    local T = new({_k = "map", _n = name, _d = name or ("{[" .. kt._d .. "]: " .. vt._d .. "}"),
                   _key = kt, _val = vt})
    T._c = function(v)
        if type(v) ~= "table" then
            return "expected " .. T._d .. ", got " .. type(v)
        end
        local kc, vc = kt._c, vt._c
        for key, val in pairs(v) do
            local m = kc(key)
            if m then
                return "invalid key: " .. m, join(key)
            end
            local m2, p = vc(val)
            if m2 then
                return m2, join(key, p)
            end
        end
    end
    return T
end

function builders.optional(d, reg, name)
    local e = build(d.e, reg)
    local T = new({_k = "optional", _n = name, _d = name or (e._d .. "?"), _e = e})
    T._c = function(v)
        if v ~= nil then
            return e._c(v)
        end
    end
    return T
end

function builders.union(d, reg, name)
    local vs = {}
    for i, x in ipairs(d.v) do
        vs[i] = build(x, reg)
    end
    local n = #vs
    local T = new({_k = "union", _n = name, _v = vs})
    T._d = name or table.concat(display(vs), " | ")
    T._c = function(v)
        for i = 1, n do
            if vs[i]._c(v) == nil then
                return
            end
        end
        return "expected " .. T._d .. ", got " .. type(v)
    end
    return T
end

function builders.inter(d, reg, name)
    local vs = {}
    for i, x in ipairs(d.v) do
        vs[i] = build(x, reg)
    end
    local n = #vs
    local fmap = {}
    for i = 1, n do
        for k, ft in pairs(rawget(vs[i], "_fmap") or {}) do
            fmap[k] = ft
        end
    end
    local T = new({_k = "intersection", _n = name, _v = vs, _fmap = fmap})
    T._d = name or table.concat(display(vs), " & ")
    T._c = function(v)
        for i = 1, n do
            local m, p = vs[i]._c(v)
            if m then
                return m, p
            end
        end
    end
    return T
end

function builders.ref(d, _, name)
    local reg, target = d.r, d.n
    local T = new({_k = "ref", _n = name or target, _d = name or target, _r = reg, _rn = target})
    T._c = function(v)
        local t = reg[target]
        if t ~= nil then
            return t._c(v)
        end
    end
    return T
end

function builders.ann(d, reg, name)
    local inner = build(d.e, reg, name)
    local T = new({})
    for k, v in pairs(inner) do
        T[k] = v
    end
    local ic = inner._c
    local min, max, min_len, max_len, pattern = d.min, d.max, d.min_len, d.max_len, d.pattern
    T._c = function(v)
        local m, p = ic(v)
        if m then
            return m, p
        end
        local tv = type(v)
        if tv == "number" then
            if min ~= nil and v < min then
                return "expected " .. T._d .. " >= " .. tostring(min) .. ", got " .. tostring(v)
            end
            if max ~= nil and v > max then
                return "expected " .. T._d .. " <= " .. tostring(max) .. ", got " .. tostring(v)
            end
        end
        if tv == "string" or tv == "table" then
            if min_len ~= nil and #v < min_len then
                return "expected length >= " .. tostring(min_len) .. ", got " .. tostring(#v)
            end
            if max_len ~= nil and #v > max_len then
                return "expected length <= " .. tostring(max_len) .. ", got " .. tostring(#v)
            end
        end
        if pattern ~= nil and tv == "string" then
            local ok, found = pcall(sfind, v, pattern)
            if not (ok and found) then
                return "expected " .. T._d .. " matching " .. format("%q", pattern) .. ", got "
                    .. format("%q", v)
            end
        end
    end
    return T
end

builders["function"] = function(d, reg, name)
    local ps, rs = {}, {}
    for i, x in ipairs(d.p or {}) do
        ps[i] = build(x, reg)
    end
    for i, x in ipairs(d.r or {}) do
        rs[i] = build(x, reg)
    end
    local T = new({_k = "function", _n = name, _d = name or "function", _params = ps, _ret = rs})
    T._c = function(v)
        if not callable(v) then
            return "expected " .. T._d .. ", got " .. type(v)
        end
    end
    return T
end

function builders.interface(d, reg, name)
    local fields, fmap = build_fields(d.f, reg)
    local bases = {}
    for i, b in ipairs(d.b or {}) do
        bases[i] = build(b, reg)
    end
    local ms = d.m or {}
    local T = new({_k = "interface", _n = name, _d = name or "interface", _fields = fields,
                   _fmap = fmap, _methods = ms, _v = bases})
    T._c = function(v)
        local tv = type(v)
        if tv ~= "table" and tv ~= "userdata" then
            return "expected " .. T._d .. ", got " .. tv
        end
        for i = 1, #bases do
            local m, p = bases[i]._c(v)
            if m then
                return m, p
            end
        end
        for i = 1, #ms do
            local fv = v[ms[i]]
            if not callable(fv) then
                return "expected function, got " .. type(fv), ms[i]
            end
        end
        return check_fields(fields, v)
    end
    return T
end

function build(d, reg, name)
    if type(d) == "string" then
        if name == nil then
            return builtins[d] or ANY
        end
        return make_prim(prim_pred[d] ~= nil and d or "any", name)
    end
    local b = builders[d.k]
    if b == nil then
        return name and make_prim("any", name) or ANY
    end
    return b(d, reg, name)
end

local function wtype(desc, name, registry, tparams)
    local T = build(desc, registry or {}, name)
    T._n = name
    T._tp = tparams
    if registry ~= nil and name ~= nil then
        registry[name] = T
    end
    return T
end

-- ---- type value behaviour --------------------------------------------------------------

TypeMT.__name = "type"

TypeMT.__index = function(self, key)
    local m = methods[key]
    if m ~= nil then
        return m
    end
    local r = resolve(self)
    local fm = rawget(r, "_fmap")
    if fm ~= nil then
        return fm[key]
    end
    return nil
end

TypeMT.__call = function(self, v, ...)
    if rawget(self, "_tp") ~= nil and is_type(v) then
        return self -- generic instantiation: parameters are `any` at run time
    end
    local m, p = self._c(v)
    if m == nil then
        return v
    end
    local msg = "expected " .. (self._n or self._d) .. ", got " .. type(v)
    if p ~= nil then
        msg = msg .. " (" .. p .. ": " .. m .. ")"
    elseif m ~= msg then
        msg = msg .. " (" .. m .. ")"
    end
    error(msg, 2)
end

TypeMT.__tostring = function(self)
    return self._n or self._d
end

local subtype
subtype = function(a, b)
    a, b = resolve(a), resolve(b)
    if a == b then
        return true
    end
    local ak, bk = a._k, b._k
    if bk == "any" or bk == "unknown" or ak == "never" then
        return true
    end
    if ak == "union" then
        for _, v in ipairs(a._v) do
            if not subtype(v, b) then
                return false
            end
        end
        return true
    end
    if ak == "optional" then
        return subtype(builtins["nil"], b) and subtype(a._e, b)
    end
    if bk == "optional" then
        return ak == "nil" or subtype(a, b._e)
    end
    if bk == "union" then
        for _, v in ipairs(b._v) do
            if subtype(a, v) then
                return true
            end
        end
        return false
    end
    if ak == "literal" then
        return b._c(a._v) == nil
    end
    if ak == "integer" and bk == "number" then
        return true
    end
    if ak ~= bk then
        return false
    end
    if ak == "array" then
        return subtype(a._e, b._e)
    end
    if ak == "map" then
        return subtype(a._key, b._key) and subtype(a._val, b._val)
    end
    if ak == "record" or ak == "interface" then
        for _, f in ipairs(b._fields) do
            local af = a._fmap[f[1]]
            if af == nil then
                if not f[3] then
                    return false
                end
            elseif not subtype(af, f[2]) then
                return false
            end
        end
        return true
    end
    return prim_pred[ak] ~= nil
end

TypeMT.__le = subtype
TypeMT.__lt = function(a, b)
    return subtype(a, b) and not subtype(b, a)
end

function methods.is(self, v)
    local m, p = self._c(v)
    if m == nil then
        return v, nil
    end
    if p ~= nil then
        return nil, p .. ": " .. m
    end
    return nil, m
end

function methods.kind(self)
    return resolve(self)._k
end

function methods.name(self)
    return self._n
end

function methods.elem(self)
    return resolve(self)._e
end

methods.inner = methods.elem

function methods.key(self)
    return resolve(self)._key
end

function methods.val(self)
    return resolve(self)._val
end

function methods.variants(self)
    local out = {}
    for i, v in ipairs(resolve(self)._v or {}) do
        out[i] = v
    end
    return out
end

function methods.fields(self)
    local fs = resolve(self)._fields or {}
    local i = 0
    return function()
        i = i + 1
        local f = fs[i]
        if f ~= nil then
            return f[1], f[2]
        end
    end
end

function methods.params(self)
    local out = {}
    for i, v in ipairs(resolve(self)._params or {}) do
        out[i] = v
    end
    return out
end

-- the return types of a function type, as multiple values
function methods.ret(self)
    return table.unpack(resolve(self)._ret or {})
end

function methods.tparams(self)
    local out = {}
    for i, v in ipairs(self._tp or {}) do
        out[i] = v
    end
    return out
end

local function typeof(v)
    if is_type(v) then
        return v
    end
    local tv = type(v)
    if tv == "number" then
        return mtype(v) == "integer" and builtins.integer or builtins.number
    end
    return builtins[tv] or ANY
end

local function lua_type(v)
    if getmetatable(v) == TypeMT then
        return "type"
    end
    return type(v)
end

return {
    type = lua_type,
    wtype = wtype,
    builtins = builtins,
    is_type = is_type,
    typeof = typeof,
    mt = TypeMT,
}
