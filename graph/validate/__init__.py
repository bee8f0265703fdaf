"""Is the data right? SHACL (pySHACL, and compiled to SPARQL), integrity checks, verbatim quotes.

shacl, shapes + shacl_sparql (the compiler), integrity, source_texts, rdflib_bridge.
"""
