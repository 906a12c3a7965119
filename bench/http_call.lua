-- http_call.lua - wrk driver for bench/transport_http.sh: POSTs one JSON-RPC
-- message to /mcp on every connection, back to back, with keep-alive.
--
--   wrk -s bench/http_call.lua URL -- BODY_FILE [SESSION_ID [PROTOCOL_VERSION [NAME:VALUE...]]]
--
-- BODY_FILE holds the message (e.g. a tools/call); SESSION_ID, when given
-- and not "-", goes in Mcp-Session-Id; each NAME:VALUE after the version is
-- one more header (bench/era.sh: a 2026-07-28 request's Mcp-Method and
-- Mcp-Name). No response() callback: wrk then
-- parses responses in C only, so the driver stays cheap; wrk counts
-- non-2xx answers itself, and the script checks one answer beforehand.
local body, session, version

function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  session = args[2]
  version = args[3] or "2025-11-25"
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["MCP-Protocol-Version"] = version
  if session and session ~= "-" then
    wrk.headers["Mcp-Session-Id"] = session
  end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end
