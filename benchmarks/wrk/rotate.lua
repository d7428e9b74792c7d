-- wrk script: each request takes the next line of a file, so load spreads over users/queries.
-- args: mode ("recommend": lines are Bearer tokens, POST recommendations;
--             "get": lines are request paths), then the file of lines.
-- Run with as many threads as connections (-tN -cN): each thread then holds one connection,
-- so what a thread records is what one client saw (wrk itself does not tell connections apart).
-- done() prints one line "WRK {json}": counts, wrk's latency percentiles over every request
-- (microseconds), and per connection its answers and its p50 / p99 / max latency.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } rotate_timespec;
int clock_gettime(int clock, rotate_timespec *spec);
]])
local CLOCK_MONOTONIC = 1
local spec = ffi.new("rotate_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, spec)
  return tonumber(spec.tv_sec) * 1e6 + tonumber(spec.tv_nsec) / 1e3
end

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

local lines = {}
local position = 0
local mode = "get"
local sent_us = 0
latencies_us = {} -- this thread's (this connection's) latencies, read by done()

function init(args)
  mode = args[1]
  for line in io.lines(args[2]) do
    lines[#lines + 1] = line
  end
  position = (thread_number or 0) * 97
end

function request()
  position = position % #lines + 1
  sent_us = now_us()
  if mode == "recommend" then
    local headers = { ["Authorization"] = "Bearer " .. lines[position] }
    return wrk.format("POST", "/api/v1/me/recommendations?n=10", headers, "")
  end
  return wrk.format("GET", lines[position])
end

function response(status, headers, body)
  latencies_us[#latencies_us + 1] = now_us() - sent_us
end

local function percentile(sorted, share)
  if #sorted == 0 then
    return 0
  end
  return sorted[math.max(1, math.ceil(#sorted * share))]
end

function done(summary, latency, requests)
  local connections = {}
  for _, thread in ipairs(threads) do
    local values = thread:get("latencies_us") or {}
    table.sort(values)
    connections[#connections + 1] = string.format(
      '{"requests": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}',
      #values, percentile(values, 0.5), percentile(values, 0.99), values[#values] or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connections": [%s]}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(connections, ", ")))
end
