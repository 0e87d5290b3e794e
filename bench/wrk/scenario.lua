-- One wrk script for every scenario of the benchmark (see bench/README.md).
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/scenario.lua URL -- SCENARIO DATAFILE OUTPREFIX
--
-- SCENARIO   health | list | get | update | toggle | create | delete | login | path
-- DATAFILE   tab-separated lines written by bench/run.py:
--              list, create        user_id  token
--              get, update, toggle user_id  token  task_id
--              delete              user_id  token  task_id   (each line used at most once)
--              login               email    password
--              path                path (with its query string)  token: GET path
--              health              (ignored; pass any readable file)
-- OUTPREFIX  files written by the threads: OUTPREFIX.created.<n> (create: "task_id user_id"
--            per created task) and nothing else; "-" to write nothing.
--
-- Requests are picked at random from the data file (delete: walked in order, each thread taking
-- every T-th line, so no task is deleted twice; a thread that runs out stops and the result is
-- flagged "exhausted"). done() prints one line "BENCHJSON {...}" with the figures; latency values
-- from wrk are microseconds.

local threads = {}
local next_id = 0

-- Runs in the main Lua state once per thread, before the thread's init().
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_no", next_id)
  table.insert(threads, thread)
end

local scenario, reqs, n_reqs
local created_file
local cursor, stride, exhausted
-- Globals, so done() can read them from each thread with thread:get().
sent = 0
non2xx = 0
status_counts = {}
exhausted_flag = 0
local health_req

local function split_tab(line)
  local out = {}
  for field in string.gmatch(line, "[^\t]+") do
    table.insert(out, field)
  end
  return out
end

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

local auth_json = { ["Content-Type"] = "application/json" }

local function headers_for(token, with_body)
  local h = { ["Authorization"] = "Bearer " .. token }
  if with_body then
    h["Content-Type"] = "application/json"
  end
  return h
end

local priorities = { "low", "medium", "high" }

function init(args)
  scenario = args[1]
  local datafile = args[2]
  local outprefix = args[3] or "-"
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
  reqs = {}

  if scenario == "health" then
    reqs[1] = wrk.format("GET", "/health")
  else
    local f = assert(io.open(datafile, "r"))
    for line in f:lines() do
      local c = split_tab(line)
      if #c >= 2 then
        if scenario == "list" then
          reqs[#reqs + 1] = wrk.format("GET", "/api/" .. c[1] .. "/tasks?limit=20", headers_for(c[2], false))
        elseif scenario == "get" then
          reqs[#reqs + 1] = wrk.format("GET", "/api/" .. c[1] .. "/tasks/" .. c[3], headers_for(c[2], false))
        elseif scenario == "update" then
          local n = #reqs + 1
          local body = '{"title":"updated task ' .. n .. '","priority":"' .. priorities[(n % 3) + 1] ..
                       '","description":"changed by the update scenario"}'
          reqs[n] = wrk.format("PATCH", "/api/" .. c[1] .. "/tasks/" .. c[3], headers_for(c[2], true), body)
        elseif scenario == "toggle" then
          reqs[#reqs + 1] = wrk.format("PATCH", "/api/" .. c[1] .. "/tasks/" .. c[3] .. "/complete", headers_for(c[2], false))
        elseif scenario == "create" then
          -- several body variants per user so the payloads are not all identical
          for k = 1, 3 do
            local body = '{"title":"bench created ' .. k .. '","description":"written by the create scenario","priority":"' ..
                         priorities[k] .. '"' .. (k == 3 and ',"due_date":"2030-01-02T03:04:05Z"' or '') .. '}'
            reqs[#reqs + 1] = wrk.format("POST", "/api/" .. c[1] .. "/tasks", headers_for(c[2], true), body)
          end
        elseif scenario == "delete" then
          reqs[#reqs + 1] = wrk.format("DELETE", "/api/" .. c[1] .. "/tasks/" .. c[3], headers_for(c[2], false))
        elseif scenario == "path" then
          reqs[#reqs + 1] = wrk.format("GET", c[1], headers_for(c[2], false))
        elseif scenario == "login" then
          local body = '{"email":' .. json_string(c[1]) .. ',"password":' .. json_string(c[2]) .. '}'
          reqs[#reqs + 1] = wrk.format("POST", "/api/auth/login", auth_json, body)
        else
          error("unknown scenario " .. tostring(scenario))
        end
      end
    end
    f:close()
  end
  n_reqs = #reqs
  if n_reqs == 0 then
    error("no requests for scenario " .. tostring(scenario) .. " from " .. tostring(datafile))
  end

  health_req = wrk.format("GET", "/health")
  if scenario == "delete" then
    -- thread k takes lines k, k+T, k+2T, ... (T = thread count, passed as args[4])
    stride = tonumber(args[4] or "1")
    cursor = thread_no or 1
  end
  if scenario == "create" and outprefix ~= "-" then
    created_file = assert(io.open(outprefix .. ".created." .. tostring(thread_no or 0), "w"))
  end
end

function request()
  sent = sent + 1
  if scenario == "delete" then
    if cursor > n_reqs then
      exhausted_flag = 1
      wrk.thread:stop()
      -- wrk still wants a request string; a harmless one, never a second delete
      return health_req
    end
    local r = reqs[cursor]
    cursor = cursor + stride
    return r
  end
  if n_reqs == 1 then
    return reqs[1]
  end
  return reqs[math.random(n_reqs)]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  status_counts[status] = (status_counts[status] or 0) + 1
  if created_file and status == 201 then
    local id = string.match(body, '"id"%s*:%s*"([^"]+)"')
    local uid = string.match(body, '"user_id"%s*:%s*"([^"]+)"')
    if id and uid then
      created_file:write(id, "\t", uid, "\n")
    end
  end
end

function done(summary, latency, requests)
  local total_non2xx, total_sent, any_exhausted = 0, 0, 0
  local merged = {}
  for _, t in ipairs(threads) do
    total_non2xx = total_non2xx + (t:get("non2xx") or 0)
    total_sent = total_sent + (t:get("sent") or 0)
    if (t:get("exhausted_flag") or 0) == 1 then
      any_exhausted = 1
    end
    for code, count in pairs(t:get("status_counts") or {}) do
      local k = tostring(math.floor(code))
      merged[k] = (merged[k] or 0) + count
    end
  end
  local code_parts = {}
  for code, count in pairs(merged) do
    code_parts[#code_parts + 1] = '"' .. code .. '":' .. count
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"sent":%d,"exhausted":%s,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"status_codes":{%s},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, total_non2xx, total_sent,
    any_exhausted == 1 and "true" or "false",
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(code_parts, ","),
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
