-- POSTs a body template from a file, replacing {{ID}} with an id unique per request and thread.
-- wrk -s bench/wrk/unique_post.lua URL -- TEMPLATE_FILE PREFIX CONTENT_TYPE [SOAPACTION [API_KEY]]
-- (an empty SOAPACTION sends none; API_KEY goes out as X-API-Key)
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  template = file:read("*a")
  file:close()
  prefix = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[3]
  if args[4] and args[4] ~= "" then
    wrk.headers["SOAPAction"] = args[4]
  end
  if args[5] and args[5] ~= "" then
    wrk.headers["X-API-Key"] = args[5]
  end
end

function request()
  counter = counter + 1
  local id = string.format("%s%d-%d", prefix, tid, counter)
  local body = string.gsub(template, "{{ID}}", id)
  return wrk.format(nil, nil, nil, body)
end
