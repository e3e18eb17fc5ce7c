-- :checkhealth lore — is the server found and working (its version), which interpreter runs it, and,
-- for each running Lore client (from the server's lore/status): the workspace, the cache, the repos with
-- their files, the last index and its error.
local M = {}

local health = vim.health or require('health')
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local info = health.info or health.report_info
local warn = health.warn or health.report_warn
local bad = health.error or health.report_error

local function check_install(lore, server)
  local cmd = server.cmd(lore.config)
  local line = table.concat(cmd, ' ')
  if vim.fn.executable(cmd[1]) ~= 1 then
    bad(('`%s` not found'):format(cmd[1]), {
      ('install Lore: `python3 -m pip install %s` (the command is `lore`)'):format(server.DISTRIBUTION),
      'or set `python` (an interpreter with Lore) or `cmd` in require("lore").setup{}',
    })
    return false
  end
  local res
  if vim.system then
    res = vim.system(vim.list_extend(vim.deepcopy(cmd), { '--check' }), { cwd = server.cwd, text = true }):wait(60000)
  else
    local out = vim.fn.system(vim.list_extend(vim.deepcopy(cmd), { '--check' }))
    res = { code = vim.v.shell_error, stdout = out, stderr = '' }
  end
  local out = vim.trim((res.stdout or '') .. (res.stderr or ''))
  if res.code == 0 then
    local lines = vim.split(out, '\n', { plain = true })
    ok(('`%s`: %s'):format(line, lines[#lines]))
    return true
  end
  local last = vim.split(out, '\n', { plain = true })
  bad(('`%s --check` failed: %s'):format(line, last[#last] or ('exit code ' .. res.code)), {
    ('install Lore for that interpreter: `%s -m pip install %s`'):format(cmd[2] == '-m' and cmd[1] or 'python3',
      server.DISTRIBUTION),
    'or set `python` / `cmd` in require("lore").setup{}, then :LoreRestart',
  })
  return false
end

local function get(t, key)
  if type(t) ~= 'table' then
    return nil
  end
  local v = t[key]
  return v ~= vim.NIL and v or nil
end

local function check_client(client)
  local resp = require('lore.compat').request_sync(client, 'lore/status', {}, 10000)
  if not resp or resp.err or type(resp.result) ~= 'table' then
    bad(('client %d (root %s): lore/status did not answer: %s'):format(client.id, tostring(client.root_dir),
      resp and vim.inspect(resp.err) or 'timeout'))
    return
  end
  local s = resp.result
  ok(('server %s (python %s), client %d'):format(get(s, 'version') or '?', get(s, 'python') or '?', client.id))
  local ws = get(s, 'workspace')
  if ws then
    ok(('workspace %s%s'):format(ws, get(s, 'config') and (' (' .. s.config .. ')') or ' (no lore.toml)'))
  else
    bad('no workspace: no lore.toml, git repository or lore.repos setting for ' .. tostring(client.root_dir))
  end
  local cache = get(s, 'cache')
  if cache and vim.fn.filewritable(cache) == 2 then
    ok('cache ' .. cache)
  elseif cache then
    bad('cache ' .. cache .. ' is not a writable folder', { 'set settings.cacheDir or $LORE_CACHE' })
  end
  local repos = get(s, 'repos') or {}
  if #repos == 0 then
    warn('no repository indexed yet')
  end
  for _, r in ipairs(repos) do
    local files = get(r, 'files') or 0
    local report = files > 0 and ok or warn
    report(('repo %s: %d files%s (%s)'):format(r.name, files, get(r, 'head') and get(r, 'head') ~= '' and (' at ' .. r.head) or '', r.root))
  end
  for _, missing in ipairs(get(s, 'not_indexed') or {}) do
    warn('not indexed: ' .. missing)
  end
  if get(s, 'indexing') then
    info('indexing now')
  end
  local last = get(s, 'last_index')
  if last and last ~= '' then
    ok(('last index: %s; %d files, %d contract entities, %d links'):format(last, get(s, 'files') or 0,
      get(s, 'entities') or 0, get(s, 'links') or 0))
  end
  local err = get(s, 'last_error')
  if err and err ~= '' then
    bad('last index error: ' .. err)
  else
    ok('no index error')
  end
end

function M.check()
  local lore = require('lore')
  local server = require('lore.server')
  local compat = require('lore.compat')
  start('lore: installation')
  if vim.fn.has('nvim-0.8') ~= 1 then
    bad('Neovim >= 0.8 is needed')
  end
  check_install(lore, server)
  start('lore: servers')
  local clients = compat.get_clients({ name = lore.name })
  if #clients == 0 then
    info('no Lore server is running: open a file in a repository of the system (a folder with lore.toml or .git)')
  end
  for _, client in ipairs(clients) do
    check_client(client)
  end
end

return M
