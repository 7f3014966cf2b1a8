-- The mixed load of bench/load.py: REST transfers, SOAP transfers, partner callbacks and
-- shipment orders, interleaved in the proportions of a weight list, each request with its own
-- ids, each response timed and checked per request type.
--
--   wrk -s bench/load/mix.lua URL -- CONFIG_FILE
--
-- CONFIG_FILE (written by bench/load.py), one "name value" per line:
--   stream N          this wrk process's number in the run: ids and event times are unique per
--                     stream, thread and request
--   lane L / lanes M  this process's first thread lane and the lanes of the run (spreads the
--                     threads over the mix and the callback targets)
--   templates DIR     the request bodies (bench/load/*.json, *.xml)
--   out PATH          done() writes one line per request there
--   mix rest=1,soap=1,callback=1,shipment=1
--   key.bank K, key.private K, key.partner K      X-API-Key of each caller
--   target SHIPMENT_REF TRACKING_NO               (repeated) booked shipments to call back about
--
-- wrk times all requests together; to time each type, every request carries its id as
-- X-Request-ID, which the bridge echoes, and response() finds the request's type and start by
-- that id (so any number of connections per thread works). The clock is CLOCK_MONOTONIC via
-- LuaJIT's ffi.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

-- 2026-01-01T00:00:00Z. Event times are this + a second per request, unique per stream and
-- thread lane, so no two callbacks of a run are the same event.
local EPOCH = 1767225600
local MAX_PER_THREAD = 100000
local STATUSES = { "PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED" }
local KINDS = {
  rest = { letter = "R", path = "/api/v1/transfers", key = "bank",
           type = "application/json", template = "transfer.json" },
  soap = { letter = "S", path = "/soap/banking", key = "bank", action = '"TransferFunds"',
           type = "text/xml; charset=utf-8", template = "transfer_soap.xml" },
  callback = { letter = "C", path = "/soap/partner", key = "partner",
               action = '"UpdateDeliveryStatus"', type = "text/xml; charset=utf-8",
               template = "delivery_status.xml" },
  shipment = { letter = "H", path = "/api/v1/shipments", key = "private",
               type = "application/json", template = "shipment.json" },
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function read_file(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

local function read_config(path)
  local config = { targets = {}, keys = {} }
  for line in io.lines(path) do
    local name, value = line:match("^(%S+)%s+(.*)$")
    if name == "target" then
      local ref, tracking = value:match("^(%S+)%s+(%S+)$")
      table.insert(config.targets, { ref = ref, tracking = tracking })
    elseif name and name:sub(1, 4) == "key." then
      config.keys[name:sub(5)] = value
    elseif name then
      config[name] = value
    end
  end
  return config
end

-- Smooth weighted round robin (as nginx balances upstreams): every type in proportion to its
-- weight, spread out rather than in runs.
local function schedule(mix)
  local weights, order, total = {}, {}, 0
  for name, weight in mix:gmatch("(%w+)=(%d+)") do
    assert(KINDS[name], "unknown request type in mix: " .. name)
    weights[name] = tonumber(weight)
    total = total + tonumber(weight)
  end
  local current = {}
  for name in pairs(weights) do current[name] = 0 end
  for _ = 1, total do
    local best
    for name, weight in pairs(weights) do
      current[name] = current[name] + weight
      if best == nil or current[name] > current[best] or
         (current[name] == current[best] and name < best) then
        best = name
      end
    end
    current[best] = current[best] - total
    table.insert(order, best)
  end
  return order
end

function init(args)
  local config = read_config(args[1])
  stream = tonumber(config.stream)
  lane = tonumber(config.lane) + tid - 1
  lanes = tonumber(config.lanes)
  out = config.out
  order = schedule(config.mix)
  targets = config.targets
  keys = config.keys
  templates = {}
  for name, kind in pairs(KINDS) do
    templates[name] = read_file(config.templates .. "/" .. kind.template)
  end
  counter = 0
  position = lane  -- threads start at different places in the mix
  target = math.floor(lane * #targets / lanes)
  pending = {}     -- X-Request-ID -> "kind\tkey\tstart_us"
  records = {}     -- "kind\tkey\tstatus\tlatency_us\tflag", one per response
end

local function body_for(name, id)
  if name == "callback" then
    assert(#targets > 0, "callbacks need targets")
    target = target % #targets + 1
    local shipment = targets[target]
    local seconds = EPOCH + (stream * 256 + lane) * MAX_PER_THREAD + counter
    local at = os.date("!%Y-%m-%dT%H:%M:%SZ", seconds)
    local body = templates.callback
      :gsub("{{SHIPMENT_REF}}", shipment.ref)
      :gsub("{{TRACKING_NO}}", shipment.tracking)
      :gsub("{{STATUS}}", STATUSES[counter % #STATUSES + 1])
      :gsub("{{EVENT_TIME}}", at)
    return body, shipment.ref .. "@" .. at
  end
  local body = templates[name]:gsub("{{ID}}", id)
  if name == "shipment" then
    return body, "ORD-" .. id
  end
  return body, id
end

function request()
  counter = counter + 1
  assert(counter < MAX_PER_THREAD, "too many requests per thread for unique event times")
  position = position % #order + 1
  local name = order[position]
  local kind = KINDS[name]
  local id = string.format("L%d%s%d-%d", stream, kind.letter, lane, counter)
  local body, key = body_for(name, id)
  local headers = {
    ["Content-Type"] = kind.type,
    ["X-API-Key"] = keys[kind.key],
    ["X-Request-ID"] = id,
  }
  if kind.action then
    headers["SOAPAction"] = kind.action
  end
  pending[id] = name .. "\t" .. key .. "\t" .. now_us()
  return wrk.format("POST", kind.path, headers, body)
end

local function flag_of(name, body)
  if body:find("Fault>", 1, true) then
    return "fault"
  elseif name == "callback" and body:find("<Duplicate>true", 1, true) then
    return "duplicate"
  elseif (name == "rest" or name == "soap") and body:find("RJCT", 1, true) then
    return "rejected"
  end
  return "-"
end

function response(status, headers, body)
  local id = headers["X-Request-ID"] or headers["x-request-id"]
  local sent = id and pending[id]
  if not sent then
    table.insert(records, "unknown\t-\t" .. status .. "\t0\tunmatched")
    return
  end
  pending[id] = nil
  local name, key, start = sent:match("^(%S+)\t(%S+)\t(%d+)$")
  local flag = flag_of(name, body or "")
  table.insert(records, string.format("%s\t%s\t%d\t%d\t%s", name, key, status,
                                      now_us() - tonumber(start), flag))
end

function done(summary, latency, requests)
  local file = assert(io.open(threads[1]:get("out"), "w"))
  local errors = summary.errors
  file:write(string.format("# duration_us %d connect %d read %d write %d timeout %d\n",
                           summary.duration, errors.connect, errors.read, errors.write,
                           errors.timeout))
  for _, thread in ipairs(threads) do
    for _, record in ipairs(thread:get("records")) do
      file:write(record, "\n")
    end
    -- Sent and never answered: in flight when wrk stopped, or their connection broke.
    for _, sent in pairs(thread:get("pending")) do
      local name, key = sent:match("^(%S+)\t(%S+)\t")
      file:write(string.format("%s\t%s\t0\t0\tunanswered\n", name, key))
    end
  end
  file:close()
end
