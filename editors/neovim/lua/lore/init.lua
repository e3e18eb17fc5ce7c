-- Lore for Neovim: registers the Lore language server (`lore serve`, stdio) and adds :LoreContext,
-- :LoreReindex, :LoreConsumers, :LoreCopyContext and :LoreMap. Hover, diagnostics, code actions, code lenses and
-- navigation come from the server through Neovim's built-in LSP client.
--
--   require('lore').setup({ python = '/path/to/venv/bin/python', settings = { maxHoverNotes = 6 } })
--
-- Neovim >= 0.11 uses vim.lsp.config + vim.lsp.enable; 0.8-0.10 start the client from a FileType
-- autocommand with vim.lsp.start.
local compat = require('lore.compat')
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
}

M.config = vim.deepcopy(M.defaults)

local function server_cmd(opts)
  if opts.cmd then
    return opts.cmd
  end
  if not opts.python and vim.fn.executable('lore') == 1 then
    return { 'lore', 'serve' }
  end
  return { opts.python or 'python3', '-m', 'lore', 'serve' }
end

--- The root of the system a file belongs to: the nearest folder up with a root marker, in marker order.
function M.root(path)
  local start = vim.fs.dirname(path)
  for _, marker in ipairs(M.config.root_markers) do
    local found = vim.fs.find(marker, { upward = true, path = start })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return nil
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

function M.client_config(opts)
  local settings = as_object(opts.settings)
  return {
    name = M.name,
    cmd = server_cmd(opts),
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = settings,
    settings = { lore = settings },
    commands = client_commands(),
  }
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
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- lists replace, not merge
  end
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
        if vim.bo[ev.buf].buftype ~= '' then
          return
        end
        local root = M.root(vim.api.nvim_buf_get_name(ev.buf))
        if not root then
          return
        end
        local start = vim.tbl_extend('force', conf, { root_dir = root })
        start.root_markers = nil
        start.filetypes = nil
        vim.lsp.start(start, { bufnr = ev.buf })
      end,
    })
  end
  define_commands()
end

return M
