-- The few LSP client calls whose shape changed between Neovim 0.8 and 0.11.
local M = {}

function M.has_lsp_config()
  return vim.fn.has('nvim-0.11') == 1 and type(vim.lsp.config) ~= 'nil' and vim.lsp.enable ~= nil
end

function M.get_clients(filter)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter)
end

function M.get_client(id)
  return vim.lsp.get_client_by_id(id)
end

--- client:request on 0.11+, client.request before.
function M.request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- client:request_sync on 0.11+, client.request_sync before.
function M.request_sync(client, method, params, timeout, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request_sync(method, params, timeout, bufnr)
  end
  return client.request_sync(method, params, timeout, bufnr)
end

--- client:stop() on 0.11+, client.stop() before.
function M.stop(client)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:stop()
  end
  return client.stop()
end

return M
