-- bench/tokens.lua: a different bearer token on every request.
--
--   wrk -t T -c C -d D -s bench/tokens.lua URL -- TOKENS_FILE START T
--
-- TOKENS_FILE holds one token per line (a multiple of T lines). Thread i
-- (0-based) sends the tokens at positions START+i, START+i+T, START+i+2T, ...
-- (modulo the file's length), so the threads together walk through the file in
-- order from START and no token is sent twice until all have been sent once. done() prints
-- "tokens: sent=N pool=P" for bench.py, which works out whether any token was
-- sent twice (a possible cache hit on the server) in a warm-up + run pair.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local file, start, nthreads = args[1], tonumber(args[2] or "0"), tonumber(args[3] or "1")
   -- This thread only ever sends the positions congruent to START+id modulo T (the
   -- pool size is a multiple of T): it loads just those lines, 1/T of the file.
   local first = (start + id) % nthreads
   tokens = {}
   pool = 0
   for line in io.lines(file) do
      if #line > 0 then
         if pool % nthreads == first then tokens[#tokens + 1] = line end
         pool = pool + 1
      end
   end
   if #tokens == 0 then error("no tokens in " .. file) end
   pos = math.floor(((start + id) % pool) / nthreads) % #tokens  -- next index (0-based)
   sent = 0
   -- The request text around the token, built once: request() only concatenates.
   local req = wrk.format(nil, nil, {["Authorization"] = "Bearer @TOKEN@"})
   local a, b = string.find(req, "@TOKEN@", 1, true)
   prefix, suffix = string.sub(req, 1, a - 1), string.sub(req, b + 1)
end

function request()
   local token = tokens[pos + 1]
   pos = (pos + 1) % #tokens
   sent = sent + 1
   return prefix .. token .. suffix
end

function done(summary, latency, requests)
   local total, pool_size = 0, 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get("sent") or 0)
      pool_size = thread:get("pool") or pool_size
   end
   io.write(string.format("tokens: sent=%d pool=%d\n", total, pool_size))
end
