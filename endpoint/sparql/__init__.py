"""The query core: the SPARQL 1.1 Protocol views, the policy, and the sandboxed processes that
evaluate queries under a time limit. Everything a query passes through lives in this folder."""
