-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- A JSON-schema subset validator with default injection, written for the stand-in. It follows the behaviour of
-- api7/jsonschema as APISIX's core.schema.check uses it (same error texts, same quirks) for the keywords plugins use:
-- type, properties, required, enum, const, minimum/maximum (+exclusive), minLength/maxLength, pattern, items (list and
-- tuple), minItems/maxItems, uniqueItems, additionalProperties (bool or schema), patternProperties, minProperties/
-- maxProperties, dependencies (list form), allOf/anyOf/oneOf/not, default.
--
-- Quirks kept on purpose because APISIX has them:
--   * validation mutates the conf: a missing property whose schema has a `default` gets a copy of it, `false`
--     included (real 3.18.0: jsonschema >= 0.9.x "allow injecting false default value"; the stand-in had followed an
--     older release and left `false` out, docs/testing.md divergence 10);
--   * an empty Lua table is both an object and an array;
--   * error texts are those of jsonschema 0.9.12 as real 3.18.0 printed them (divergence 10): "matches none of the
--     enum values", "expected X to be at least/at most Y" (exclusive: "greater than"/"smaller than"), and
--     "object matches none of the required: ...";
--   * strings that are secret references ($env://, $secret://) are not checked against string constraints here
--     (APISIX passes skip_validation = secret.is_secret_ref to the generator).
-- Not supported (error if used): $ref, format other than ignored ones, if/then/else.
local ngx = ngx
local re_find = ngx and ngx.re and ngx.re.find
local type = type
local pairs = pairs
local ipairs = ipairs
local next = next
local tostring = tostring
local format = string.format
local byte = string.byte
local sub = string.sub
local sort = table.sort
local concat = table.concat
local fmod = math.fmod
local cjson_null = require("cjson.safe").null
local encode = require("cjson.safe").encode

local _M = {}

local validate


-- 1 = empty (object and array), 2 = array, 0 = object
local function tablekind(t)
    if next(t) == nil then
        return 1
    end
    local n = #t
    if n == 0 then
        return 0
    end
    local count = 0
    for k in pairs(t) do
        if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
            return 0
        end
        count = count + 1
    end
    return count == n and 2 or 0
end


local function utf8_len(s)
    local count = 0
    local i = 1
    local len = #s
    while i <= len do
        local c = byte(s, i)
        if c < 0x80 then
            i = i + 1
        elseif c >= 0xF0 then
            i = i + 4
        elseif c >= 0xE0 then
            i = i + 3
        elseif c >= 0xC0 then
            i = i + 2
        else
            i = i + 1
        end
        count = count + 1
    end
    return count
end


local function deepeq(a, b)
    if type(a) ~= type(b) then
        return false
    end
    if type(a) ~= "table" then
        return a == b
    end
    for k, v in pairs(a) do
        if not deepeq(v, b[k]) then
            return false
        end
    end
    for k in pairs(b) do
        if a[k] == nil then
            return false
        end
    end
    return true
end


local function deepcopy(v)
    if type(v) ~= "table" then
        return v
    end
    local out = {}
    for k, x in pairs(v) do
        out[k] = deepcopy(x)
    end
    return out
end


local function match_pattern(s, pattern)
    if not re_find then
        error("pattern validation needs ngx.re (run inside nginx)")
    end
    local from, _, err = re_find(s, pattern, "jo")
    if err then
        error("invalid pattern " .. pattern .. ": " .. err)
    end
    return from ~= nil
end


local function is_secret_ref(s)
    return sub(s, 1, 7) == "$env://" or sub(s, 1, 10) == "$secret://"
end


local function type_matches(jsontype, value, vtype)
    if jsontype == "object" then
        return vtype == "table" and tablekind(value) <= 1
    elseif jsontype == "array" then
        return vtype == "table" and tablekind(value) >= 1
    elseif jsontype == "table" then
        return vtype == "table"
    elseif jsontype == "integer" then
        return vtype == "number" and fmod(value, 1.0) == 0.0
    elseif jsontype == "null" then
        return value == cjson_null
    elseif jsontype == "string" or jsontype == "boolean" or jsontype == "number" or jsontype == "function" then
        return vtype == jsontype
    end
    error("invalid JSON type: " .. tostring(jsontype))
end


local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do
        keys[#keys + 1] = k
    end
    sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end


local function check_object(schema, value)
    local properties = schema.properties or {}
    local required = {}
    if schema.required then
        for _, k in ipairs(schema.required) do
            required[k] = true
        end
    end
    local dependencies = schema.dependencies or {}

    for _, prop in ipairs(sorted_keys(properties)) do
        local subschema = properties[prop]
        local propvalue = value[prop]
        if propvalue ~= nil then
            local ok, err = validate(subschema, propvalue)
            if not ok then
                return false, format("property %q validation failed: %s", prop, err)
            end
            local dep = dependencies[prop]
            if type(dep) == "table" and #dep > 0 then
                for _, depprop in ipairs(dep) do
                    if value[depprop] == nil then
                        return false, format("property %q is required when %q is set", depprop, prop)
                    end
                end
            end
        elseif required[prop] then
            return false, format("property %q is required", prop)
        end
        required[prop] = nil
        -- real 3.18.0: `default = false` is injected too (jsonschema "allow injecting false default value")
        if propvalue == nil and type(subschema) == "table" and subschema.default ~= nil then
            value[prop] = deepcopy(subschema.default)
        end
    end

    for _, prop in ipairs(sorted_keys(required)) do
        if value[prop] == nil then
            return false, format("property %q is required", prop)
        end
    end

    local addprops = schema.additionalProperties
    local patterns = schema.patternProperties
    local check_extra = addprops ~= nil and addprops ~= true
    local count = 0
    if patterns or check_extra or schema.minProperties or schema.maxProperties then
        for _, prop in ipairs(sorted_keys(value)) do
            count = count + 1
            local matched = false
            if patterns then
                for _, patt in ipairs(sorted_keys(patterns)) do
                    if type(prop) == "string" and match_pattern(prop, patt) then
                        local ok, err = validate(patterns[patt], value[prop])
                        if not ok then
                            return false, "failed to validate " .. prop .. format(" (matching %q): ", patt) .. err
                        end
                        matched = true
                    end
                end
            end
            if check_extra and not (properties[prop] ~= nil or matched) then
                if type(addprops) == "table" then
                    local ok, err = validate(addprops, value[prop])
                    if not ok then
                        return false, "failed to validate additional property " .. tostring(prop) .. ": " .. err
                    end
                else
                    return false, "additional properties forbidden, found " .. tostring(prop)
                end
            end
        end
    end
    if schema.minProperties and count < schema.minProperties then
        return false, format("expect object to have at least %s properties", schema.minProperties)
    end
    if schema.maxProperties and count > schema.maxProperties then
        return false, format("expect object to have at most %s properties", schema.maxProperties)
    end
    return true
end


local function check_array(schema, value)
    local n = #value
    if schema.minItems and n < schema.minItems then
        return false, format("expect array to have at least %s items", schema.minItems)
    end
    if schema.maxItems and n > schema.maxItems then
        return false, format("expect array to have at most %s items", schema.maxItems)
    end
    local items = schema.items
    if type(items) == "table" and #items > 0 then
        for i, ischema in ipairs(items) do
            local item = value[i]
            if item == nil then
                break
            end
            local ok, err = validate(ischema, item)
            if not ok then
                return false, format("failed to validate item %d: %s", i, err)
            end
        end
        if schema.additionalItems == false and value[#items + 1] ~= nil then
            return false, "found unexpected extra items in array"
        end
    elseif items ~= nil and items ~= true then
        for i, item in ipairs(value) do
            local ok, err = validate(items, item)
            if not ok then
                return false, format("failed to validate item %d: %s", i, err)
            end
        end
    end
    if schema.uniqueItems then
        for i = 1, n do
            for j = i + 1, n do
                if deepeq(value[i], value[j]) then
                    return false, format("expected unique items but items %d and %d are equal", i, j)
                end
            end
        end
    end
    return true
end


local function check_string(schema, value)
    if is_secret_ref(value) then
        return true
    end
    if schema.minLength then
        local c = utf8_len(value)
        if c < schema.minLength then
            return false, format("string too short, expected at least %d, got %d", schema.minLength, c)
        end
    end
    if schema.maxLength then
        local c = utf8_len(value)
        if c > schema.maxLength then
            return false, format("string too long, expected at most %d, got %d", schema.maxLength, c)
        end
    end
    if schema.pattern and not match_pattern(value, schema.pattern) then
        return false, format("failed to match pattern %q with %q", schema.pattern, value)
    end
    return true
end


local function check_number(schema, value)
    if schema.minimum and value < schema.minimum then
        -- real 3.18.0: jsonschema's range texts are "at least"/"greater than"/"at most"/"smaller than"
        return false, format("expected %s to be at least %s", tostring(value), tostring(schema.minimum))
    end
    if schema.exclusiveMinimum and value <= schema.exclusiveMinimum then
        return false, format("expected %s to be greater than %s", tostring(value), tostring(schema.exclusiveMinimum))
    end
    if schema.maximum and value > schema.maximum then
        return false, format("expected %s to be at most %s", tostring(value), tostring(schema.maximum))
    end
    if schema.exclusiveMaximum and value >= schema.exclusiveMaximum then
        return false, format("expected %s to be smaller than %s", tostring(value), tostring(schema.exclusiveMaximum))
    end
    if schema.multipleOf then
        local q = value / schema.multipleOf
        if q ~= math.floor(q) then
            return false, format("expected %s to be a multiple of %s", tostring(value), tostring(schema.multipleOf))
        end
    end
    return true
end


local function check_compound(schema, value)
    if schema.allOf then
        for i, sub_schema in ipairs(schema.allOf) do
            local ok, err = validate(sub_schema, value)
            if not ok then
                return false, format("allOf %d failed: %s", i, err)
            end
        end
    end
    if schema.anyOf then
        local matched = false
        local requires = {}
        for _, sub_schema in ipairs(schema.anyOf) do
            if validate(sub_schema, value) then
                matched = true
                break
            end
        end
        if not matched then
            for _, sub_schema in ipairs(schema.anyOf) do
                if type(sub_schema) == "table" and sub_schema.required then
                    requires[#requires + 1] = encode(sub_schema.required)
                end
            end
            local suffix = #requires > 0 and (": " .. concat(requires, " or ")) or ""
            -- real 3.18.0: "required", not "requireds"
            return false, "object matches none of the required" .. suffix
        end
    end
    if schema.oneOf then
        local matched
        for i, sub_schema in ipairs(schema.oneOf) do
            if validate(sub_schema, value) then
                if matched then
                    return false, format("value should match only one schema, but matches both schemas %d and %d",
                        matched, i)
                end
                matched = i
            end
        end
        if not matched then
            return false, "value should match only one schema, but matches none"
        end
    end
    if schema["not"] ~= nil and validate(schema["not"], value) then
        return false, "value wasn't supposed to match schema"
    end
    return true
end


validate = function(schema, value)
    if schema == true then
        return true
    elseif schema == false then
        return false, "expect false always"
    end
    if type(schema) ~= "table" then
        error("invalid schema: expected a table, got " .. type(schema))
    end
    if schema["$ref"] then
        error("the stand-in validator does not support $ref")
    end

    local vtype = type(value)
    local st = type(schema.type)
    if st == "string" then
        if not type_matches(schema.type, value, vtype) then
            return false, format("wrong type: expected %s, got %s", schema.type, vtype)
        end
    elseif st == "table" then
        local any = false
        for _, t in ipairs(schema.type) do
            if type_matches(t, value, vtype) then
                any = true
                break
            end
        end
        if not any then
            return false, format("wrong type: expected one of %s, got %s", concat(schema.type, ", "), vtype)
        end
    elseif st ~= "nil" then
        error("invalid \"type\" type: got " .. st)
    end

    local ok, err
    if vtype == "table" then
        local kind = tablekind(value)
        if kind <= 1 and (schema.properties or schema.additionalProperties ~= nil or schema.patternProperties
            or schema.required or schema.minProperties or schema.maxProperties or schema.dependencies) then
            ok, err = check_object(schema, value)
            if not ok then
                return false, err
            end
            if schema.required and #schema.required == 0 and kind ~= 1 then
                return false, "the input data should be an empty table"
            end
        end
        if kind >= 1 and (schema.items ~= nil or schema.minItems or schema.maxItems or schema.uniqueItems) then
            ok, err = check_array(schema, value)
            if not ok then
                return false, err
            end
        end
    elseif vtype == "string" and (schema.minLength or schema.maxLength or schema.pattern) then
        ok, err = check_string(schema, value)
        if not ok then
            return false, err
        end
    elseif vtype == "number" then
        ok, err = check_number(schema, value)
        if not ok then
            return false, err
        end
    end

    if schema.enum then
        local found = false
        for _, v in ipairs(schema.enum) do
            if deepeq(value, v) then
                found = true
                break
            end
        end
        if not found then
            -- real 3.18.0: "none" (the "non" typo was fixed in jsonschema before the release APISIX pins)
            return false, "matches none of the enum values"
        end
    end
    if schema.const ~= nil and not deepeq(value, schema.const) then
        return false, "failed to check const value"
    end

    return check_compound(schema, value)
end


-- validate(schema, value) → true | false, err. Injects defaults into `value` as it goes.
_M.validate = validate


return _M
