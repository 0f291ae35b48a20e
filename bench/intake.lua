-- wrk script for the webhook intake benchmark: signed Shopify deliveries, a share of them repeated.
-- Arguments (after --): body file, base64 HMAC of the body, run seconds, tail seconds, run tag.
-- The headers are the ones Shopify sends, Triggered-At (the current second) and Event-Id included.
-- Each thread issues unique webhook ids "bench-<tag>-<thread>-<n>" (the tag tells one run's ids from
-- another's on the same server); every 10th request repeats an id issued at least 1 s earlier (answered
-- long since, at a few ms each), and in the last `tail` seconds only such repeats are sent, so a request
-- still in flight when wrk stops can never be a delivery that was stored but not counted.

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  signature = args[2]
  tail_at = os.time() + tonumber(args[3]) - tonumber(args[4])
  tag = args[5]
  issued, repeats, answered, stored, duplicate, other = 0, 0, 0, 0, 0, 0
  count, second, issued_by_second = 0, 0, {}
end

function request()
  count = count + 1
  local now = os.time()
  if now ~= second then
    second = now
    issued_by_second[now] = issued
    triggered_at = os.date("!%Y-%m-%dT%H:%M:%S", now) .. ".000000000Z"
  end
  local settled = issued_by_second[now - 1] or 0
  local id
  if settled > 0 and (now >= tail_at or count % 10 == 0) then
    repeats = repeats + 1
    id = math.random(1, settled)
  else
    issued = issued + 1
    id = issued
  end
  return wrk.format("POST", "/webhooks/shopify", {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Hmac-Sha256"] = signature,
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Shop-Domain"] = "bench-store.myshopify.com",
    ["X-Shopify-Api-Version"] = "2026-10",
    ["X-Shopify-Webhook-Id"] = "bench-" .. tag .. "-" .. tid .. "-" .. id,
    ["X-Shopify-Event-Id"] = "event-" .. tag .. "-" .. tid .. "-" .. id,
    ["X-Shopify-Triggered-At"] = triggered_at,
  }, body)
end

function response(status, headers, answer)
  if status == 200 then
    answered = answered + 1
    if answer:find('"stored"', 1, true) then
      stored = stored + 1
    elseif answer:find('"duplicate"', 1, true) then
      duplicate = duplicate + 1
    end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = {issued = 0, repeats = 0, answered = 0, stored = 0, duplicate = 0, other = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "issued": %d, "repeats": %d, ' ..
    '"answered_200": %d, "stored": %d, "duplicate": %d, "other_status": %d, "socket_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), totals.issued,
    totals.repeats, totals.answered, totals.stored, totals.duplicate, totals.other,
    errors.connect + errors.read + errors.write, errors.timeout))
end
