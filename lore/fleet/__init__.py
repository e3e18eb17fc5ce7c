"""`lore fleet`: organisation scale on a distributed engine (Dask).

`repos.py` reads the list of repositories; `task.py` is the work of one repository (clone through
`indexers.git.clone`, index, export, publish to the shard store), run on a Dask worker; `run.py` starts a
local cluster or joins one by address, submits the tasks with retries, reports progress and sums up the
failures by reason; `graph.py` builds the organisation graph from the store's shards, the link join
partitioned by entity id across the same workers.
"""
