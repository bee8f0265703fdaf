"""The `kg` command line: one module per command group, each a thin face over the library.

main (the group, build, validate), query (query, export, stats), serve, link, publish.
"""
