-- hello.lua: a WSAPI application in Lua, as the WSAPI manual's first
-- example writes it, plus an echo of a POSTed body. It runs unchanged
-- under wsapi.cgi (CGI) and wsapi.fcgi (FastCGI); the Go tests host it
-- behind a filter stack with wsapi.CGIApp and wsapi.FastCGIApp.

local function hello(wsapi_env)
  local posted = ""
  if wsapi_env.REQUEST_METHOD == "POST" then
    local len = tonumber(wsapi_env.CONTENT_LENGTH) or 0
    if len > 0 then
      posted = wsapi_env.input:read(len) or ""
    end
  end
  local headers = { ["Content-Type"] = "text/plain", ["X-Lua"] = "wsapi" }
  local function body()
    coroutine.yield("Hello Wsapi!\n")
    coroutine.yield("PATH_INFO: " .. (wsapi_env.PATH_INFO or "") .. "\n")
    coroutine.yield("SCRIPT_NAME: " .. (wsapi_env.SCRIPT_NAME or "") .. "\n")
    if posted ~= "" then
      coroutine.yield("POSTED: " .. posted .. "\n")
    end
  end
  return 200, headers, coroutine.wrap(body)
end

return hello
