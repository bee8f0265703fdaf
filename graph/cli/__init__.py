"""The `kg` command line: one module per command group, each a thin face over the library.

main (the `kg` group: build, validate, query, export, serve, settings), link, publish.
"""
