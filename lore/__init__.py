"""Lore: system context at the line being edited. The import packages are `indexers`, `lore` and
`lsp_server`; the distribution on PyPI is `lore-lsp` (the name `lore` belongs to another project), and
the command is `lore`."""

DISTRIBUTION = "lore-lsp"


def version() -> str:
    """The installed version of the distribution, or "" when it is not installed (a bare checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version(DISTRIBUTION)
    except PackageNotFoundError:
        return ""
