-- POST one report per request, each request a different (locality, date), from a file of
-- "Authorization header<TAB>JSON body" lines (BENCH_REQUESTS). Threads take interleaved lines so no two
-- requests repeat. done() prints one JSON line with the figures bench/run.py reads.
local lines = {}
local path = os.getenv("BENCH_REQUESTS")
for line in io.lines(path) do lines[#lines + 1] = line end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  n = id - 1
  step = tonumber(os.getenv("BENCH_THREADS") or "2")
  wrk.method = "POST"
end

function request()
  local line = lines[(n % #lines) + 1]
  n = n + step
  local tab = line:find("\t")
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = line:sub(1, tab - 1)}
  return wrk.format("POST", nil, headers, line:sub(tab + 1))
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
