-- GET with a session cookie (BENCH_COOKIE); done() prints one JSON line with the figures bench/run.py reads.
-- A response counts as good only when its status is 200 and its body holds BENCH_MARKER (when set): a 302 to
-- the login page or an error page is fast, and must not pass for a dashboard.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") or ""
  marker = os.getenv("BENCH_MARKER") or ""
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 or (marker ~= "" and not string.find(body, marker, 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("bad") or 0)
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, errors, wrong,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
