"""The one reader of SPARQL text, a real parser, for the endpoint's guards and the remote backend.

reader (what a query asks), grammar + tree (rdflib's parser), iris, rewrite, syntax_errors.
"""
