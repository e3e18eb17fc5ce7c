"""The kinds a commit is classified as (`indexers.history.classify` decides them). Apart from the
classifier so that reading history (the hover, `lore context`) never compiles its patterns."""

from __future__ import annotations

KINDS = ("revert", "reapply", "workaround", "workaround_removed", "hotfix", "regression_fix", "incident",
         "temporary", "security")

# Kinds that describe a fix made under pressure or a change that was undone: the ones worth showing.
NOTABLE = frozenset({"revert", "reapply", "workaround", "hotfix", "regression_fix", "incident", "temporary",
                     "security"})
FIX_KINDS = frozenset({"hotfix", "regression_fix", "incident", "security", "workaround"})
