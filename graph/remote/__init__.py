"""A remote SPARQL 1.1 server (Virtuoso, Fuseki...) as the store: query it, publish builds to it.

store (answers like the embedded store), publish (pushes every named graph by the GSP).
"""
