-- Lore for Neovim: registers the Lore language server (`lore serve`, stdio) and adds :LoreContext,
-- :LoreReindex, :LoreConsumers, :LoreCopyContext, :LoreMap, :LoreRestart, :LoreLog and `:checkhealth lore`.
-- Hover, diagnostics, code actions, code lenses and navigation come from the server through Neovim's
-- built-in LSP client; indexing progress reaches vim.lsp.status() and the LspProgress event.
--
--   require('lore').setup({ python = '/path/to/venv/bin/python', settings = { maxHoverNotes = 6 } })
--
-- Neovim >= 0.11 uses vim.lsp.config + vim.lsp.enable; 0.8-0.10 start the client from a FileType
-- autocommand with vim.lsp.start. Either way one server runs per system (the folder of lore.toml, else
-- of .git), none for a file outside every repository, and none until `<cmd> --check` says Lore works.
local compat = require('lore.compat')
local server = require('lore.server')
local ui = require('lore.ui')

local M = {}

M.name = 'lore'

M.defaults = {
  -- Command that starts the server. nil: `lore serve` when `lore` is executable, else
  -- `<python> -m lore serve`.
  cmd = nil,
  -- Interpreter with Lore installed, used when cmd is nil and `lore` is not on PATH.
  python = nil,
  filetypes = {
    'proto', 'go', 'python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact',
    'java', 'cs', 'yaml', 'json', 'graphql', 'sql', 'dockerfile', 'markdown', 'toml',
  },
  -- The folder of lore.toml wins over the nearest .git: a system spans several repositories.
  root_markers = { 'lore.toml', '.git' },
  -- Server settings (section "lore"): repos, cacheDir, features, maxHoverNotes, logLevel.
  settings = {},
  -- Where :LoreMap writes the map page (nil: stdpath('cache')/lore/system-map.html).
  map_file = nil,
  -- K in buffers the server attaches to: vim.lsp.buf.hover with these float options (no wrapping:
  -- Neovim 0.11 wraps a line at its width before the link targets are concealed, which leaves gaps).
  -- false: leave K alone. Only replaces K when it is unmapped or Neovim's default LSP hover.
  hover = { border = 'rounded', wrap = false },
}

M.config = vim.deepcopy(M.defaults)

--- The root of the system a file belongs to (nil outside every repository).
function M.root(path)
  return server.root(path, M.config.root_markers)
end

-- Client-side handlers for the server's commands when a code action or code lens runs them: the
-- server computes, the editor shows (quickfix, float, register).
local function client_commands()
  return {
    ['lore.showConsumers'] = function(command, ctx)
      ui.run_server_command(ctx.client_id, command, ui.show_locations)
    end,
    ['lore.showHistory'] = function(command, ctx)
      ui.run_server_command(ctx.client_id, command, ui.show_text)
    end,
    ['lore.copyContext'] = function(command, ctx)
      ui.run_server_command(ctx.client_id, command, ui.copy_text)
    end,
  }
end

-- Lua's {} is ambiguous and goes over the wire as [] ; the server wants JSON objects.
local function as_object(t)
  if type(t) ~= 'table' or vim.tbl_isempty(t) then
    return vim.empty_dict()
  end
  local out = vim.deepcopy(t)
  if type(out.features) == 'table' and vim.tbl_isempty(out.features) then
    out.features = vim.empty_dict()
  end
  return out
end

--- The root for a buffer, after the install check: `on_root(root)` is called only when both exist.
local function when_ready(bufnr, on_root)
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local root = M.root(vim.api.nvim_buf_get_name(bufnr))
  if not root then
    return -- outside every repository: no server (and never a second one)
  end
  server.ensure(M.config, function(ok)
    if ok and vim.api.nvim_buf_is_valid(bufnr) then
      on_root(root)
    end
  end)
end

function M.client_config(opts)
  local settings = as_object(opts.settings)
  return {
    name = M.name,
    cmd = server.cmd(opts),
    cmd_cwd = server.cwd,
    filetypes = opts.filetypes,
    root_dir = when_ready,
    init_options = settings,
    settings = { lore = settings },
    commands = client_commands(),
  }
end

--- Start (or attach) the server for a buffer, by hand: the 0.8-0.10 route and :LoreRestart.
function M.start(bufnr)
  when_ready(bufnr, function(root)
    local start = vim.tbl_extend('force', M.client_config(M.config), { root_dir = root })
    start.filetypes = nil
    vim.lsp.start(start, { bufnr = bufnr })
  end)
end

--- :LoreRestart — stop the servers, check the install again (a fixed setup takes effect), start one per
--- system for the loaded buffers.
function M.restart()
  local clients = compat.get_clients({ name = M.name })
  for _, client in ipairs(clients) do
    compat.stop(client)
  end
  vim.wait(5000, function()
    return vim.tbl_isempty(compat.get_clients({ name = M.name }))
  end, 20)
  server.reset()
  local filetypes = {}
  for _, ft in ipairs(M.config.filetypes) do
    filetypes[ft] = true
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and filetypes[vim.bo[bufnr].filetype] then
      M.start(bufnr)
    end
  end
end

local function define_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('LoreContext', function(a)
    ui.context(a.range > 0 and { a.line1 - 1, a.line2 - 1 } or nil)
  end, { range = true, desc = 'Lore: show the system context at the cursor (or the range)' })
  cmd('LoreReindex', function(a)
    ui.reindex(a.bang)
  end, { bang = true, desc = 'Lore: re-index the workspace (! = from scratch)' })
  cmd('LoreConsumers', function()
    ui.consumers()
  end, { desc = 'Lore: consumers of the contract at the cursor, in the quickfix list' })
  cmd('LoreMap', function(a)
    ui.map(a.args, M.config.map_file)
  end, { nargs = '?', desc = 'Lore: the system map in the browser (centred on this buffer\'s service, or SERVICE)' })
  cmd('LoreCopyContext', function(a)
    ui.copy_context(a.range > 0 and { a.line1 - 1, a.line2 - 1 } or { nil, nil }, a.reg ~= '' and a.reg or nil)
  end, { range = true, register = true, desc = 'Lore: copy the system context for an AI prompt' })
  cmd('LoreRestart', function()
    M.restart()
  end, { desc = 'Lore: restart the server (checks the install again)' })
  cmd('LoreLog', function()
    ui.log()
  end, { desc = "Lore: the LSP log (the server's messages) in a new tab" })
end

local function map_hover(bufnr)
  if not M.config.hover then
    return
  end
  local current = vim.fn.maparg('K', 'n', false, true)
  if not vim.tbl_isempty(current) and current.desc ~= 'vim.lsp.buf.hover()' and current.desc ~= 'Lore: hover' then
    return -- the user's own K
  end
  vim.keymap.set('n', 'K', function()
    ui.hover(M.config.hover)
  end, { buffer = bufnr, desc = 'Lore: hover' })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- lists replace, not merge
  end
  server.reset() -- a new setup (another python, cmd) is checked again
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('lore_attach', { clear = true }),
    callback = function(ev)
      local client = compat.get_client(ev.data and ev.data.client_id)
      if client and client.name == M.name then
        vim.schedule(function() -- after Neovim's own defaults for the buffer
          if vim.api.nvim_buf_is_valid(ev.buf) then
            map_hover(ev.buf)
          end
        end)
      end
    end,
  })
  local conf = M.client_config(M.config)
  if compat.has_lsp_config() then
    vim.lsp.config(M.name, conf)
    vim.lsp.enable(M.name)
  else
    local group = vim.api.nvim_create_augroup('lore_lsp', { clear = true })
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = conf.filetypes,
      callback = function(ev)
        M.start(ev.buf)
      end,
    })
  end
  define_commands()
end

return M
