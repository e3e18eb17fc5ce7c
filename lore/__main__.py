"""`python -m lore`: the same command line as `lore`."""

from lore.cli.main import run

if __name__ == "__main__":  # pragma: no cover
    run()
