-- Real-editor test: headless Neovim (0.11) with the Lore plugin from editors/neovim against `lore serve`
-- on the example system. Run by tests/editors/run_nvim.sh; writes a JSON result to $LORE_OUT and exits
-- 0 on success, 1 on failure.
--   - require('lore').setup registers the server (vim.lsp.config + vim.lsp.enable; with
--     LORE_NVIM_LEGACY=1 the 0.8-0.10 route: a FileType autocommand calling vim.lsp.start)
--   - checkout-service/checkout/cart_client.py: the deprecated-use diagnostic (source "lore") on the
--     RemoveItem call, and a hover naming proto:shop.cart.v1.CartService.RemoveItem
--   - :LoreContext opens a floating window with the context
--   - contracts/.../cart.proto: hover on `rpc GetCart`, :LoreConsumers fills the quickfix list
--   - cart-service/internal/server/cart.go: hover on the workaround line, and editing it gives the
--     edits-workaround diagnostic
--   - :LoreMap writes the map page centred on cart-service and hands it to the opener (vim.ui.open)
--   - :LoreReindex answers with the index counts; no warning was shown on the way
local out_path = assert(os.getenv('LORE_OUT'), 'LORE_OUT unset')
local example = assert(os.getenv('LORE_EXAMPLE'), 'LORE_EXAMPLE unset')
local v = vim.version()
local result = { nvim = ('%d.%d.%d'):format(v.major, v.minor, v.patch), checks = {} }
local t0 = vim.uv.hrtime()
local function ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end

local function finish(ok)
  result.ok = ok
  result.total_ms = ms()
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd(ok and 'qall!' or 'cquit! 1')
end

local notes = {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = msg, level = level })
end

local shown = {} -- window/showMessage from the server
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx, config)
  table.insert(shown, params)
  return show_message(err, params, ctx, config)
end

local function check(name, ok, detail)
  result.checks[name] = { ok = ok and true or false, ms = ms(), detail = detail }
  assert(ok, name .. ' failed: ' .. vim.inspect(detail))
end

local function wait(timeout, cond, what)
  local ok = vim.wait(timeout, cond, 25)
  assert(ok, 'timed out waiting for ' .. what)
end

local function open(rel)
  vim.cmd('edit ' .. vim.fn.fnameescape(example .. '/' .. rel))
  return vim.api.nvim_get_current_buf()
end

local function cursor_on(bufnr, lnum, word)
  local line = vim.api.nvim_buf_get_lines(bufnr, lnum - 1, lnum, true)[1]
  local col = assert(line:find(word, 1, true), word .. ' not on line ' .. lnum .. ': ' .. line)
  vim.api.nvim_win_set_cursor(0, { lnum, col }) -- 0-based column: inside the word
  return col
end

local function hover_text(client, bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local resp = client:request_sync('textDocument/hover', params, 15000, bufnr)
  assert(resp and not resp.err, 'hover failed: ' .. vim.inspect(resp))
  local contents = resp.result and resp.result.contents
  return contents and (contents.value or contents) or ''
end

local function floats()
  local out = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      table.insert(out, win)
    end
  end
  return out
end

local function main()
  vim.opt.runtimepath:prepend(assert(os.getenv('LORE_PLUGIN'), 'LORE_PLUGIN unset'))
  if os.getenv('LORE_NVIM_LEGACY') == '1' then
    -- the Neovim 0.8-0.10 route (FileType autocommand + vim.lsp.start), exercised on this 0.11
    require('lore.compat').has_lsp_config = function()
      return false
    end
    result.route = 'vim.lsp.start'
  else
    result.route = 'vim.lsp.config'
  end
  local python = assert(os.getenv('LORE_PYTHON'), 'LORE_PYTHON unset')
  if result.route == 'vim.lsp.start' then
    require('lore').setup({ python = python }) -- no settings: {} must reach the server as an object
  else
    require('lore').setup({ python = python, settings = { logLevel = 'info', maxHoverNotes = 6 } })
  end
  vim.cmd('filetype on')

  -- 1. a consumer of a deprecated rpc: diagnostic + hover + :LoreContext
  local buf = open('checkout-service/checkout/cart_client.py')
  local client
  wait(20000, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'lore' })[1]
    return client ~= nil and client.initialized
  end, 'the lore client to attach')
  result.root_dir = client.root_dir
  result.initialized_ms = ms()
  check('root is the lore.toml folder', vim.fs.normalize(client.root_dir) == vim.fs.normalize(example), client.root_dir)

  local diags
  wait(60000, function()
    diags = vim.diagnostic.get(buf)
    return #diags > 0
  end, 'a lore diagnostic on cart_client.py')
  result.diagnostics = vim.tbl_map(function(d)
    return { lnum = d.lnum, col = d.col, severity = d.severity, message = d.message, source = d.source, code = d.code }
  end, diags)
  local deprecated = vim.tbl_filter(function(d)
    return d.source == 'lore' and d.code == 'deprecated-use' and d.message:find('RemoveItem', 1, true) ~= nil
  end, diags)
  check('deprecated-use diagnostic on the RemoveItem call', #deprecated == 1 and deprecated[1].lnum == 26, result.diagnostics)

  cursor_on(buf, 27, 'RemoveItem')
  local hover = hover_text(client, buf)
  result.hover_client = hover
  check('hover on the RemoveItem call', hover:find('proto:shop.cart.v1.CartService.RemoveItem', 1, true) ~= nil, hover)

  vim.cmd('LoreContext')
  local ctx_lines
  wait(15000, function()
    for _, win in ipairs(floats()) do
      local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      local text = table.concat(lines, '\n')
      if text:find('Lore: checkout-service/checkout/cart_client.py:27', 1, true) then
        ctx_lines = lines
        return true
      end
    end
    return false
  end, 'the :LoreContext floating window')
  result.context_float = ctx_lines
  check(':LoreContext float names the rpc', table.concat(ctx_lines, '\n'):find('CartService.RemoveItem', 1, true) ~= nil, ctx_lines)
  for _, win in ipairs(floats()) do
    vim.api.nvim_win_close(win, true)
  end

  -- 2. the contract itself: hover + :LoreConsumers
  local proto = open('contracts/proto/shop/cart/v1/cart.proto')
  wait(10000, function()
    return vim.lsp.get_clients({ bufnr = proto, name = 'lore' })[1] ~= nil
  end, 'the client on cart.proto')
  check('one server for the whole system', #vim.lsp.get_clients({ name = 'lore' }) == 1, #vim.lsp.get_clients({ name = 'lore' }))
  cursor_on(proto, 9, 'GetCart')
  local proto_hover = hover_text(client, proto)
  result.hover_proto = proto_hover
  check('hover on rpc GetCart', proto_hover:find('proto:shop.cart.v1.CartService.GetCart', 1, true) ~= nil, proto_hover)

  vim.fn.setqflist({}, 'r')
  vim.cmd('LoreConsumers')
  wait(15000, function()
    return #vim.fn.getqflist() > 0
  end, ':LoreConsumers to fill the quickfix list')
  local qf = vim.tbl_map(function(item)
    return vim.fn.fnamemodify(vim.fn.bufname(item.bufnr), ':~:.') .. ':' .. item.lnum
  end, vim.fn.getqflist())
  result.consumers = qf
  local joined = table.concat(qf, ' ')
  check(':LoreConsumers lists both consumers', #qf == 2 and joined:find('cart_client.py', 1, true) and joined:find('cart.ts', 1, true), qf)

  -- 3. the workaround line of cart-service: its hover tells the story, editing it warns
  local go = open('cart-service/internal/server/cart.go')
  wait(10000, function()
    return vim.lsp.get_clients({ bufnr = go, name = 'lore' })[1] ~= nil
  end, 'the client on cart.go')
  local lnum
  for i, text in ipairs(vim.api.nvim_buf_get_lines(go, 0, -1, true)) do
    if text:find('const maxItems = 500', 1, true) then
      lnum = i
    end
  end
  assert(lnum, 'const maxItems = 500 not found in cart.go')
  cursor_on(go, lnum, 'maxItems')
  local go_hover = hover_text(client, go)
  result.hover_workaround = go_hover
  check('hover on the workaround line', go_hover:find('Work around Redis timeout on large carts', 1, true) ~= nil, go_hover)
  vim.api.nvim_buf_set_lines(go, lnum - 1, lnum, true, { 'const maxItems = 1000' })
  local edits
  wait(20000, function()
    edits = vim.tbl_filter(function(d)
      return d.source == 'lore' and d.code == 'edits-workaround'
    end, vim.diagnostic.get(go))
    return #edits > 0
  end, 'the edits-workaround diagnostic on cart.go')
  check('editing the workaround line warns', edits[1].lnum == lnum - 1 and edits[1].message:find('#42', 1, true) ~= nil,
    { lnum = edits[1].lnum, message = edits[1].message })

  -- 4. :LoreMap from cart.go: the map page centred on cart-service, written and handed to the opener
  local opened = {}
  vim.ui.open = function(path)
    table.insert(opened, path)
    return nil, nil
  end
  vim.cmd('LoreMap')
  wait(30000, function()
    return #opened > 0
  end, ':LoreMap to open the page')
  local f = assert(io.open(opened[1], 'r'))
  local page = f:read('*a')
  f:close()
  check(':LoreMap writes the map page and opens it',
    page:find('<!DOCTYPE html>', 1, true) == 1 and page:find('"center":"service:cart-service:cart-service"', 1, true) ~= nil
      and page:find('id="lore-map-data"', 1, true) ~= nil and notes[#notes].msg:find('3 nodes, 3 links', 1, true) ~= nil,
    { path = opened[1], bytes = #page, note = notes[#notes].msg })

  -- 5. :LoreReindex
  local before = #notes
  vim.cmd('LoreReindex')
  wait(30000, function()
    for i = before + 1, #notes do
      if notes[i].msg:find('^Lore: indexed') then
        return true
      end
    end
    return false
  end, ':LoreReindex to report')
  result.notifications = notes
  check(':LoreReindex reports the index', notes[#notes].msg:find('in 4 repositories', 1, true) ~= nil, notes[#notes].msg)
  local warnings = vim.tbl_filter(function(n)
    return n.level ~= nil and n.level >= vim.log.levels.WARN
  end, notes)
  for _, m in ipairs(shown) do
    if m.type <= 2 then -- Error, Warning
      table.insert(warnings, m)
    end
  end
  check('no warnings from the server or the plugin', #warnings == 0, warnings)

  client:stop()
  vim.wait(3000, function()
    return client:is_stopped()
  end, 25)
  return true
end

local ok, err = pcall(main)
if not ok then
  result.error = tostring(err)
  result.notifications = notes
end
finish(ok)
