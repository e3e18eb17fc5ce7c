-- Which command starts the server, whether it works (before any client starts), and the root of the
-- system a buffer belongs to. A missing or broken install is found by `<cmd> --check` (`lore serve
-- --check` imports the server and prints its version) and said once, with what to run; no client is
-- started for it, so Neovim's own "quit with exit code 1" never follows.
local M = {}

M.DISTRIBUTION = 'lore-lsp' -- the PyPI name (`lore` on PyPI is another project); the command is `lore`

-- Where the server runs: this plugin's folder, never the project (`python -m lore` puts the current
-- folder on sys.path: a project's own `lore/` folder must never be what runs).
M.cwd = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')

function M.cmd(opts)
  if opts.cmd then
    return opts.cmd
  end
  if not opts.python and vim.fn.executable('lore') == 1 then
    return { 'lore', 'serve' }
  end
  return { opts.python or 'python3', '-m', 'lore', 'serve' }
end

--- The root of the system a file belongs to: the nearest folder up with a root marker, in marker order
--- (lore.toml wins over the nearest .git: a system spans several repositories); nil outside any.
function M.root(path, markers)
  if path == nil or path == '' then
    return nil
  end
  local start = vim.fs.dirname(path)
  for _, marker in ipairs(markers) do
    local found = vim.fs.find(marker, { upward = true, path = start })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return nil
end

-- The check of the configured command: nil (not run), 'running', 'ok' or 'failed', with its detail.
M.check = { state = nil, detail = '', output = '', cmd = nil }
local waiting = {}

local function cause(output, code)
  local lines = vim.tbl_filter(function(l)
    return l:match('%S') ~= nil
  end, vim.split(output or '', '\n', { plain = true }))
  for i = #lines, 1, -1 do
    local l = vim.trim(lines[i])
    if l:find('Error') or l:find('No module named') or l:find('not found') or l:find('No such') or l:find('requires') then
      return l
    end
  end
  return lines[#lines] and vim.trim(lines[#lines]) or ('exit code ' .. tostring(code))
end

--- The message for a failed check: the cause and what to run.
function M.failure_message(opts)
  local cmd = M.check.cmd or M.cmd(opts)
  local python = (cmd[2] == '-m') and cmd[1] or (opts.python or 'python3')
  local detail = M.check.detail:gsub('^' .. vim.pesc(cmd[1]) .. ': ', '')
  return ('Lore cannot start `%s` (%s): run `%s -m pip install %s`, or set `python` (an interpreter with Lore) '
    .. 'or `cmd` in require("lore").setup{}; then :LoreRestart. :checkhealth lore has the details.'):format(
    table.concat(cmd, ' '), detail, python, M.DISTRIBUTION)
end

local function finish(opts, ok, detail, output)
  M.check.state = ok and 'ok' or 'failed'
  M.check.detail = detail
  M.check.output = output
  local queued = waiting
  waiting = {}
  if not ok then
    vim.notify('Lore: ' .. M.failure_message(opts), vim.log.levels.ERROR)
  end
  for _, fn in ipairs(queued) do
    fn(ok)
  end
end

--- Run `<cmd> --check` once (asynchronously) and call `done(ok)` when it is known.
function M.ensure(opts, done)
  if M.check.state == 'ok' or M.check.state == 'failed' then
    done(M.check.state == 'ok')
    return
  end
  table.insert(waiting, done)
  if M.check.state == 'running' then
    return
  end
  M.check.state = 'running'
  local cmd = vim.list_extend(vim.deepcopy(M.cmd(opts)), { '--check' })
  M.check.cmd = M.cmd(opts)
  if vim.fn.executable(cmd[1]) ~= 1 then
    vim.schedule(function()
      finish(opts, false, cmd[1] .. ' not found (no such executable, nor on PATH)', '')
    end)
    return
  end
  local function on_exit(code, out)
    vim.schedule(function()
      if code == 0 then
        local lines = vim.split(vim.trim(out), '\n', { plain = true })
        finish(opts, true, lines[#lines] or '', out)
      else
        finish(opts, false, cause(out, code), out)
      end
    end)
  end
  if vim.system then
    vim.system(cmd, { cwd = M.cwd, text = true, timeout = 60000 }, function(res)
      on_exit(res.code, (res.stdout or '') .. (res.stderr or ''))
    end)
  else -- Neovim 0.8-0.9
    local chunks = {}
    local collect = function(_, data)
      vim.list_extend(chunks, data or {})
    end
    vim.fn.jobstart(cmd, { cwd = M.cwd, on_stdout = collect, on_stderr = collect, stdout_buffered = true,
      stderr_buffered = true, on_exit = function(_, code)
        on_exit(code, table.concat(chunks, '\n'))
      end })
  end
end

--- Forget the last check (a changed setup, :LoreRestart).
function M.reset()
  M.check = { state = nil, detail = '', output = '', cmd = nil }
end

return M
