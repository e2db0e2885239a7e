-- bench/soak.lua: a fixed number of requests with a mix of valid, expired and
-- forged tokens, for `bench/run --soak`.
--
--   wrk -t T -c C -d LONG -s bench/soak.lua URL -- MIX_FILE TOTAL T MARKER
--
-- MIX_FILE holds one "KIND TOKEN" line per request of the (shuffled) mix;
-- KIND is hot (a few valid tokens sent again and again: cache hits), churn
-- (many distinct valid tokens: misses and evictions), expired, badsig or
-- wrongkey (forged: rejected with 401). Each thread walks the file from its
-- own offset and stops itself after TOTAL/T requests, creating the file
-- MARKER.<thread>: wrk's main thread sleeps for the whole -d duration whatever
-- its threads do, so bench.py waits for every marker and then ends wrk with
-- SIGINT, upon which wrk prints its statistics as usual. done() prints
-- "soak: sent=N hot=.. churn=.. expired=.. badsig=.. wrongkey=.." so that
-- bench.py can compare the rejected count with wrk's non-2xx count.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local file, total, nthreads = args[1], tonumber(args[2]), tonumber(args[3] or "1")
   marker = args[4]
   stopped = false
   kinds, tokens = {}, {}
   for line in io.lines(file) do
      local k, t = string.match(line, "^(%S+) (%S+)$")
      if k then
         kinds[#kinds + 1] = k
         tokens[#tokens + 1] = t
      end
   end
   pool = #tokens
   quota = math.floor(total / nthreads)
   pos = math.floor(pool * id / nthreads)
   sent = 0
   counts = {hot = 0, churn = 0, expired = 0, badsig = 0, wrongkey = 0}
   local req = wrk.format(nil, nil, {["Authorization"] = "Bearer @TOKEN@"})
   local a, b = string.find(req, "@TOKEN@", 1, true)
   prefix, suffix = string.sub(req, 1, a - 1), string.sub(req, b + 1)
end

function request()
   if sent >= quota and not stopped then
      stopped = true
      if marker then
         local f = io.open(marker .. "." .. id, "w")
         if f then f:write(sent, "\n"); f:close() end
      end
      wrk.thread:stop()
   end
   local i = pos + 1
   pos = (pos + 1) % pool
   sent = sent + 1
   counts[kinds[i]] = counts[kinds[i]] + 1
   return prefix .. tokens[i] .. suffix
end

function done(summary, latency, requests)
   local sum = {sent = 0, hot = 0, churn = 0, expired = 0, badsig = 0, wrongkey = 0}
   for _, thread in ipairs(threads) do
      sum.sent = sum.sent + (thread:get("sent") or 0)
      local c = thread:get("counts") or {}
      for k, v in pairs(c) do sum[k] = (sum[k] or 0) + v end
   end
   io.write(string.format("soak: sent=%d hot=%d churn=%d expired=%d badsig=%d wrongkey=%d\n",
                          sum.sent, sum.hot, sum.churn, sum.expired, sum.badsig, sum.wrongkey))
end
