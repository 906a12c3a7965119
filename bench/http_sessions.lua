-- http_sessions.lua - wrk driver for the idle-sessions figure of
-- bench/transport_http.sh: every request is an initialize, so every
-- answered one opens a session the client then leaves idle. Each wrk
-- thread stops after COUNT answers (run it with -t1 for an exact count,
-- give or take the requests in flight on its connections) and then creates
-- DONE_FILE: wrk itself waits out its -d, so the caller watches for the
-- file and ends wrk with SIGINT, which prints the summary.
--
--   wrk -t1 -c16 -d120s -s bench/http_sessions.lua URL -- COUNT DONE_FILE
local count, seen, opened, done_file = 0, 0, 0, nil

function init(args)
  count = tonumber(args[1]) or 10000
  done_file = args[2]
  wrk.method = "POST"
  wrk.body = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":' ..
    '{"protocolVersion":"2025-11-25","capabilities":{},' ..
    '"clientInfo":{"name":"bench","version":"1"}}}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
end

function response(status, headers, body)
  seen = seen + 1
  if status == 200 and (headers["Mcp-Session-Id"] or headers["mcp-session-id"]) then
    opened = opened + 1
  end
  if seen == count then
    if done_file then
      local f = io.open(done_file, "w")
      if f then
        f:write(string.format("answered=%d opened=%d\n", seen, opened))
        f:close()
      end
    end
    wrk.thread:stop()
  end
end

