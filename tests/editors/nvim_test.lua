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
--   - before all that, the failure path: `python` names an interpreter without Lore: one message naming
--     the cause and the install command, no client, :LoreContext and :checkhealth lore answer, and
--     setup with the right interpreter + :LoreRestart starts the server
--   - indexing progress reaches LspProgress and vim.lsp.status(); a file outside every repository starts
--     no second server; :checkhealth lore reports the running server; :LoreLog opens the log
--   - with a screen attached (tests/editors/nvim_screen.py), screenshots of the hover
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

-- The first hover on a line may come before the file's line history is read (the server never makes a hover
-- wait for git): it says so, and a person hovers again. So does this.
local PENDING = 'line history is being read'
local function hover_settled(client, bufnr)
  local text = hover_text(client, bufnr)
  local deadline = vim.uv.hrtime() + 30e9
  while text:find(PENDING, 1, true) and vim.uv.hrtime() < deadline do
    vim.wait(250)
    text = hover_text(client, bufnr)
  end
  return text
end

local ui_chan = (vim.api.nvim_list_uis()[1] or {}).chan
local function screenshot(name)
  if not ui_chan or not os.getenv('LORE_SHOTS') then
    return
  end
  vim.cmd('redraw!')
  vim.rpcrequest(ui_chan, 'lore_screenshot', os.getenv('LORE_SHOTS') .. '/' .. name)
  result.screenshots = result.screenshots or {}
  table.insert(result.screenshots, name)
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
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
  local progress = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      local value = ev.data and ev.data.params and ev.data.params.value or {}
      table.insert(progress, { kind = value.kind, title = value.title, message = value.message, status = vim.lsp.status() })
    end,
  })
  vim.cmd('filetype on')
  vim.cmd('syntax on') -- as in a user's Neovim (--clean leaves it off): hover floats get highlights and conceals

  -- 0. the failure path: an interpreter without Lore
  require('lore').setup({ python = assert(os.getenv('LORE_NOLORE_PYTHON'), 'LORE_NOLORE_PYTHON unset') })
  local buf = open('checkout-service/checkout/cart_client.py')
  wait(30000, function()
    return #notes > 0
  end, 'the message about the missing install')
  vim.wait(1500, function() return false end, 50) -- anything else that would be said is said by now
  local failure_notes = vim.deepcopy(notes)
  result.failure_notes = failure_notes
  local said = failure_notes[1] and failure_notes[1].msg or ''
  check('server missing: one message naming the cause and the fix', #failure_notes == 1
    and failure_notes[1].level == vim.log.levels.ERROR and said:find('No module named', 1, true) ~= nil
    and said:find('-m pip install lore-lsp', 1, true) ~= nil, failure_notes)
  check('server missing: no client started', #vim.lsp.get_clients({ name = 'lore' }) == 0, #vim.lsp.get_clients({ name = 'lore' }))
  vim.cmd('LoreContext')
  check('server missing: :LoreContext answers with the cause', #notes == 2 and notes[2].msg:find('No module named', 1, true) ~= nil, notes)
  vim.cmd('checkhealth lore')
  local health = buffer_text(0)
  result.health_missing = health
  check('server missing: :checkhealth lore says why', health:find('ERROR', 1, true) ~= nil
    and health:find('No module named', 1, true) ~= nil and health:find('pip install lore-lsp', 1, true) ~= nil, health)
  vim.cmd('tabclose')
  for k in pairs(notes) do
    notes[k] = nil
  end
  -- the fix: the right interpreter, then :LoreRestart
  if result.route == 'vim.lsp.start' then
    require('lore').setup({ python = python }) -- no settings: {} must reach the server as an object
  else
    require('lore').setup({ python = python, settings = { logLevel = 'info', maxHoverNotes = 6 } })
  end
  vim.cmd('LoreRestart')

  -- 1. a consumer of a deprecated rpc: diagnostic + hover + :LoreContext
  local client
  wait(30000, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'lore' })[1]
    return client ~= nil and client.initialized
  end, 'the lore client to attach after :LoreRestart')
  check('fixing the setup and :LoreRestart starts the server', true, client.id)
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
  check('hover on the RemoveItem call', hover:find('proto:shop.cart.v1.CartService.RemoveItem', 1, true) ~= nil
    and vim.startswith(hover, 'rpc `RemoveItem` (**deprecated**) — called by **checkout-service** (Python)'), hover)

  -- the hover as Neovim shows it (vim.lsp.buf.hover: a markdown float), on the hotfixed GetCart call
  cursor_on(buf, 19, 'GetCart')
  hover_settled(client, buf) -- the line's history read, so the float shows it
  vim.cmd('normal K') -- as a person does: the plugin maps K to the hover with its float options
  local float_text
  wait(15000, function()
    for _, win in ipairs(floats()) do
      local text = buffer_text(vim.api.nvim_win_get_buf(win))
      if text:find('GetCart', 1, true) then
        float_text = text
        return true
      end
    end
    return false
  end, 'the hover float')
  result.hover_float = float_text
  check('hover float: the first line says what it is and who depends on it', vim.startswith(float_text,
    'rpc `GetCart` — provided by **cart-service** (Go), called by **checkout-service** (Python) and **storefront** (TypeScript)'), float_text)
  check('hover float: the hotfix first, no needless escapes, no long shas', float_text:find('- **History** Hotfix: retry GetCart', 1, true) ~= nil
    and not float_text:find('\\[(_#)]') and not float_text:find('%x' .. string.rep('%x', 39)), float_text)
  screenshot('nvim_hover.png')
  for _, win in ipairs(floats()) do
    vim.api.nvim_win_close(win, true)
  end

  vim.api.nvim_win_set_cursor(0, { 27, 0 }) -- the start of the line, not on the call: still its context
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
  local outside = vim.fs.dirname(example) .. '/outside.py'
  vim.fn.writefile({ 'print("not in any repository")' }, outside)
  vim.cmd('edit ' .. vim.fn.fnameescape(outside))
  vim.wait(1500, function() return false end, 50)
  check('a file outside every repository starts no second server', #vim.lsp.get_clients({ name = 'lore' }) == 1
    and #vim.lsp.get_clients({ bufnr = 0, name = 'lore' }) == 0, #vim.lsp.get_clients({ name = 'lore' }))
  vim.cmd('buffer ' .. proto)
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
  local go_hover = hover_settled(client, go)
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

  -- 5. progress, :checkhealth lore with a running server, :LoreLog
  result.progress = progress
  local began, ended, status = false, false, false
  for _, p in ipairs(progress) do
    began = began or (p.kind == 'begin' and p.title == 'Lore: indexing')
    ended = ended or p.kind == 'end'
    status = status or (type(p.status) == 'string' and p.status:find('indexing', 1, true) ~= nil)
  end
  check('indexing progress reaches LspProgress and vim.lsp.status()', began and ended and status, progress)
  vim.cmd('checkhealth lore')
  local healthy = buffer_text(0)
  result.health = healthy
  check(':checkhealth lore reports the server', healthy:find('lore-lsp', 1, true) ~= nil
    and healthy:find('repo contracts:', 1, true) ~= nil and healthy:find('no index error', 1, true) ~= nil
    and healthy:find('cache ', 1, true) ~= nil and not healthy:find('ERROR', 1, true), healthy)
  vim.cmd('tabclose')
  local before_log = #notes
  vim.cmd('LoreLog')
  check(':LoreLog opens the LSP log', vim.fs.normalize(vim.api.nvim_buf_get_name(0)) == vim.fs.normalize(vim.lsp.get_log_path()),
    vim.api.nvim_buf_get_name(0))
  for i = #notes, before_log + 1, -1 do
    table.remove(notes, i) -- "nothing logged yet" is information, not a warning
  end
  vim.cmd('tabclose')

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
