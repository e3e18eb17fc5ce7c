"""History: what the commits, reverts, workarounds and decisions behind a line say.

`classify` reads one commit message (pure), `mine` streams a repository's log into `Commit` facts and
resolves reverts against the history, `blame` attributes lines to commits (cached by blob), `churn`
finds regions that fix after fix touched, `coupling` finds files and services that change together, and
`notes` turns all of that into the few context notes a reader sees at a line.
"""
