"""Other servers: a remote SPARQL 1.1 server (Virtuoso, Fuseki...) as the store, publishing to it.

http (the one HTTP client), store (answers like the embedded store), publish (pushes by the GSP).
"""
