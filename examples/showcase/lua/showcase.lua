-- showcase.lua: a WSAPI application in Lua, served by the Go showcase at
-- /lua/ through wsapi.cgi. The Go side runs its filters first (logging,
-- sessions, login, limits); this app sees the CGI environment WSAPI
-- defines, with REMOTE_USER set to the logged-in user.

local function escape(s)
  return (tostring(s or ""):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;",
  }))
end

local shown = {
  "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
  "REMOTE_USER", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
}

local function showcase(wsapi_env)
  local user = wsapi_env.REMOTE_USER or ""
  local headers = {
    ["Content-Type"] = "text/html; charset=utf-8",
    ["Cache-Control"] = "no-store",
    ["X-Lua"] = "wsapi",
  }
  local function body()
    coroutine.yield('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
      .. '<meta name="viewport" content="width=device-width, initial-scale=1">'
      .. '<title>Lua · wsapi showcase</title><link rel="stylesheet" href="/static/style.css"></head><body>\n')
    coroutine.yield('<header class="bar"><div class="bar-inner"><a class="brand" href="/">wsapi showcase</a>'
      .. '<nav><a href="/">Files</a><a href="/stream">Stream</a><a href="/lua/">Lua</a></nav>'
      .. '<div class="who"><span id="user">' .. escape(user) .. '</span>'
      .. '<form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form></div>'
      .. '</div></header>\n<main>\n')
    coroutine.yield('<section class="card"><h1 id="lua-hello">Hello from Lua</h1>'
      .. '<p>This page comes from <code>showcase.lua</code>, a WSAPI application in ' .. escape(_VERSION)
      .. ', run by <code>wsapi.cgi</code> behind the Go filter stack.</p>\n')
    coroutine.yield('<table class="env"><thead><tr><th>Variable</th><th>Value</th></tr></thead><tbody>\n')
    for _, name in ipairs(shown) do
      coroutine.yield('<tr><td><code>' .. name .. '</code></td><td id="env-' .. name .. '"><code>'
        .. escape(wsapi_env[name]) .. '</code></td></tr>\n')
    end
    coroutine.yield('</tbody></table></section>\n</main></body></html>\n')
  end
  return 200, headers, coroutine.wrap(body)
end

return showcase
