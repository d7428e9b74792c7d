-- wrk script: each request takes the next line of a file, so load spreads over users/queries.
-- args: mode ("recommend": lines are Bearer tokens, POST recommendations;
--             "get": lines are request paths), then the file of lines.
-- done() prints one line "WRK {json}" with counts and latency percentiles (microseconds).

local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local lines = {}
local position = 0
local mode = "get"

function init(args)
  mode = args[1]
  for line in io.lines(args[2]) do
    lines[#lines + 1] = line
  end
  position = (thread_number or 0) * 97
end

function request()
  position = position % #lines + 1
  if mode == "recommend" then
    local headers = { ["Authorization"] = "Bearer " .. lines[position] }
    return wrk.format("POST", "/api/v1/me/recommendations?n=10", headers, "")
  end
  return wrk.format("GET", lines[position])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
