-- What the Lore commands show: the `lore/context` result in a floating window, consumers in the
-- quickfix list, history in a float, copied context in a register.
local compat = require('lore.compat')

local M = {}

local function notify(msg, level)
  vim.notify('Lore: ' .. msg, level or vim.log.levels.INFO)
end

--- The Lore client attached to the buffer (with `any`: or any Lore client), or nil (with a message).
function M.client(bufnr, any)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = compat.get_clients({ name = 'lore', bufnr = bufnr })[1]
  if not client and any then
    client = compat.get_clients({ name = 'lore' })[1]
  end
  if not client then
    local server = require('lore.server')
    if server.check.state == 'failed' then
      notify(server.failure_message(require('lore').config), vim.log.levels.ERROR)
    elseif server.check.state == 'running' then
      notify('the server is starting; try again in a moment')
    else
      notify('the server is not attached to this buffer (is it in a repository of the system?)', vim.log.levels.WARN)
    end
  end
  return client
end

--- K: the hover (every attached server's) in a float with the plugin's options.
function M.hover(opts)
  local config = vim.deepcopy(opts or {})
  config.max_width = config.max_width or math.max(60, math.floor(vim.o.columns * 0.9))
  config.max_height = config.max_height or math.max(10, math.floor(vim.o.lines * 0.6))
  if vim.fn.has('nvim-0.11') == 1 then
    vim.lsp.buf.hover(config)
  else
    vim.lsp.buf.hover()
  end
end

--- :LoreLog — Neovim's LSP log (the server's stderr is there) in a new tab, at its end.
function M.log()
  local path = vim.lsp.get_log_path()
  if vim.fn.filereadable(path) == 0 then
    notify('nothing logged yet (the log is ' .. path .. '; more with settings.logLevel = "info")')
  end
  vim.cmd('tabnew ' .. vim.fn.fnameescape(path))
  vim.bo.readonly = true
  vim.cmd('normal! G')
end

--- Plain lines (markdown) for a query.Context as `lore/context` returns it.
function M.render_context(ctx)
  local where = ('%s/%s:%d'):format(ctx.repo, ctx.path, ctx.line + 1)
  if ctx.col ~= nil and ctx.col ~= vim.NIL then
    where = where .. ':' .. (ctx.col + 1)
  end
  local lines = { '# Lore: ' .. where }
  for _, section in ipairs(ctx.sections or {}) do
    table.insert(lines, '')
    table.insert(lines, '## ' .. section.title)
    if #section.notes == 0 then
      table.insert(lines, '_' .. ((section.empty ~= '' and section.empty) or 'nothing known') .. '_')
    end
    for _, note in ipairs(section.notes) do
      local text = note.text:gsub('[\r\n]+', ' ')
      local line = '- ' .. text
      if note.source and note.source ~= '' then
        line = line .. '  `' .. note.source:gsub('`', "'") .. '`'
      end
      table.insert(lines, line)
    end
  end
  for _, problem in ipairs(ctx.problems or {}) do
    table.insert(lines, '')
    table.insert(lines, '> ' .. problem)
  end
  return lines
end

function M.float(lines, ft, focus_id)
  local _, winid = vim.lsp.util.open_floating_preview(lines, ft or 'markdown', {
    border = 'rounded',
    focus_id = focus_id or 'lore',
    max_width = math.max(40, math.floor(vim.o.columns * 0.8)),
    max_height = math.max(10, math.floor(vim.o.lines * 0.7)),
  })
  return winid
end

local function position_params(client, range)
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding or 'utf-16')
  if range and range[2] > range[1] then
    params = {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = { start = { line = range[1], character = 0 }, ['end'] = { line = range[2], character = 0 } },
    }
  elseif range then
    params.position = { line = range[1], character = 0 }
  end
  return params
end

--- :LoreContext — the context at the cursor (or the line range) in a floating window.
function M.context(range, callback)
  local client = M.client()
  if not client then
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  compat.request(client, 'lore/context', position_params(client, range), function(err, result)
    if err then
      notify('lore/context failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif result == nil or result == vim.NIL then
      notify('this file is not in an indexed repository')
    else
      M.float(M.render_context(result), 'markdown', 'lore_context')
    end
    if callback then
      callback(err, result)
    end
  end, bufnr)
end

function M.execute(client, command, arguments, handler)
  local bufnr = vim.api.nvim_get_current_buf()
  compat.request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    if err then
      notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    handler(result, client)
  end, bufnr)
end

--- Run a server command a code action or code lens carries, and show its result with `show`.
function M.run_server_command(client_id, command, show)
  local client = compat.get_client(client_id)
  if client then
    M.execute(client, command.command, command.arguments, function(result, c)
      show(result, c, command)
    end)
  end
end

function M.show_locations(result, client, command)
  if type(result) ~= 'table' or #result == 0 then
    notify('no consumers found')
    return
  end
  local items = vim.lsp.util.locations_to_items(result, client.offset_encoding or 'utf-16')
  local what = command and command.arguments and command.arguments[4] or 'contract'
  vim.fn.setqflist({}, ' ', { title = 'Lore: consumers of ' .. tostring(what), items = items })
  vim.cmd('botright copen')
end

function M.show_text(result)
  if type(result) == 'string' and result ~= '' then
    M.float(vim.split(result, '\n', { plain = true }), 'markdown', 'lore_text')
  end
end

function M.copy_text(result, _, _, reg)
  if type(result) ~= 'string' then
    return
  end
  local registers = reg and { reg } or { '"', '+' }
  for _, r in ipairs(registers) do
    pcall(vim.fn.setreg, r, result)
  end
  notify(('copied the system context (%d lines)'):format(#vim.split(result, '\n', { plain = true })))
end

--- :LoreReindex[!]
function M.reindex(force, callback)
  local client = M.client(nil, true)
  if not client then
    return
  end
  M.execute(client, 'lore.reindex', { { force = force and true or false } }, function(result)
    if type(result) == 'table' then
      notify(('indexed %d files in %d repositories: %d contract entities, %d links'):format(
        result.files or 0, #(result.repos or {}), result.entities or 0, result.links or 0))
    end
    if callback then
      callback(result)
    end
  end)
end

--- Open a file with the system's opener: vim.ui.open (0.10+), else xdg-open / open.
function M.open_path(path)
  if vim.ui.open then
    local _, err = vim.ui.open(path)
    if err then
      notify(('cannot open %s: %s'):format(path, err), vim.log.levels.WARN)
    end
    return
  end
  local opener = vim.fn.has('mac') == 1 and 'open' or 'xdg-open'
  if vim.fn.executable(opener) == 1 then
    vim.fn.jobstart({ opener, path }, { detach = true })
  else
    notify(('open %s in a browser'):format(path))
  end
end

--- :LoreMap [SERVICE] — the system map page (the same as `lore graph --format html`), centred on the
--- service of the current buffer, or showing SERVICE and its neighbours; written to `file` (default
--- stdpath('cache')/lore/system-map.html) and opened with the system's opener.
function M.map(focus, file, callback)
  local client = M.client(nil, true)
  if not client then
    return
  end
  local name = vim.api.nvim_buf_get_name(0)
  local args = vim.empty_dict()
  if name ~= '' and vim.bo.buftype == '' then
    args.uri = vim.uri_from_fname(name)
  end
  if focus and focus ~= '' then
    args.focus = focus
  end
  M.execute(client, 'lore.systemMap', { args }, function(result)
    if type(result) ~= 'table' or type(result.html) ~= 'string' then
      notify('no system map (is the workspace indexed?)', vim.log.levels.WARN)
      return
    end
    local path = file or (vim.fn.stdpath('cache') .. '/lore/system-map.html')
    vim.fn.mkdir(vim.fs.dirname(path), 'p')
    local f, err = io.open(path, 'w')
    if not f then
      notify(('cannot write %s: %s'):format(path, err), vim.log.levels.ERROR)
      return
    end
    f:write(result.html)
    f:close()
    notify(('system map: %d nodes, %d links -> %s'):format(result.nodes or 0, result.edges or 0, path))
    M.open_path(path)
    if callback then
      callback(path, result)
    end
  end)
end

--- :LoreConsumers — consumers of the contract entity at the cursor, in the quickfix list.
function M.consumers(callback)
  local client = M.client()
  if not client then
    return
  end
  local params = position_params(client, nil)
  local uri, line, col = params.textDocument.uri, params.position.line, params.position.character
  compat.request(client, 'lore/context', params, function(err, ctx)
    local ids = (not err and type(ctx) == 'table' and ctx.entity_ids) or {}
    if #ids == 0 then
      notify('no contract entity at the cursor')
      return
    end
    local function show(ident)
      if not ident then
        return
      end
      local command = { command = 'lore.showConsumers', arguments = { uri, line, col, ident, 'consumes' } }
      M.execute(client, command.command, command.arguments, function(result, c)
        M.show_locations(result, c, command)
        if callback then
          callback(result)
        end
      end)
    end
    if #ids == 1 then
      show(ids[1])
    else
      vim.ui.select(ids, { prompt = 'Consumers of' }, show)
    end
  end, vim.api.nvim_get_current_buf())
end

--- :LoreCopyContext — the context of the cursor line (or range) for an AI prompt, into a register.
function M.copy_context(range, reg)
  local client = M.client()
  if not client then
    return
  end
  local first = range[1] or (vim.api.nvim_win_get_cursor(0)[1] - 1)
  local last = range[2] or first
  M.execute(client, 'lore.copyContext', { vim.uri_from_bufnr(0), first, last }, function(result)
    M.copy_text(result, nil, nil, reg)
  end)
end

return M
