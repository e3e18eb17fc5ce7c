"""`python -m lore`: the same command line as `lore`."""

from lore.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    main()
