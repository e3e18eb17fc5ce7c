"""Team notes anchored to code: making anchors (`anchor`, over tree-sitter `symbols`), re-attaching them
after edits (`attach`), following renamed files through git (`follow`) and placing a note in a working
tree (`place`). The note files themselves are read by `indexers.sources.notes.teamnotes`."""
