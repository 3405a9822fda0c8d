-- Keeps one session per wrk thread: the first response's cookie is sent
-- with every later request of the thread.
local cookie = nil

request = function()
  if cookie then
    return wrk.format("GET", "/", { ["Cookie"] = cookie })
  end
  return wrk.format("GET", "/")
end

response = function(status, headers, body)
  if status ~= 200 then
    error("status " .. status .. ": " .. body)
  end
  local set = headers["Set-Cookie"]
  if set and not cookie then
    cookie = set:match("^([^;]+)")
  end
end
