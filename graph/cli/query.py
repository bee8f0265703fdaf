"""`kg query`, `kg export` and `kg stats`: read the built store from the command line.

Data goes to stdout (binary formats as bytes); tables are shortened with the one CURIE rule the
pages use (graph/namespaces.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    serialize,
)

from graph.config import Settings
from graph.errors import QuerySyntaxError
from graph.formats import rdf_format, results_format
from graph.namespaces import all_prefixes, curie
from graph.queries import Query, parse_header, run


def stdout_bytes():
    """The binary stdout (also under click's CliRunner, which swaps sys.stdout)."""
    sys.stdout.flush()
    return sys.stdout.buffer


def _read_query(text: str | None, file: str | None) -> Query:
    if text is not None and file is not None:
        raise click.UsageError("give the query as an argument or with --file, not both")
    if text == "-" or file == "-":
        return parse_header("stdin", sys.stdin.read())
    if file is not None:
        return parse_header(Path(file).stem, Path(file).read_text(encoding="utf-8"))
    if text is None:
        raise click.UsageError("give a query: an argument, --file FILE, or - for stdin")
    return parse_header("argument", text)


def _cell(term, base_iri: str) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return curie(term.value, base_iri) or f"<{term.value}>"
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal) and term.language:
        return f"{term.value}@{term.language}"
    return term.value


def _print_table(solutions: QuerySolutions, base_iri: str) -> None:
    names = [v.value for v in solutions.variables]
    rows = [[_cell(s[n], base_iri) for n in names] for s in solutions]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*names)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    click.echo("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@click.command()
@click.argument("query", required=False)
@click.option("--file", "-f", "file", help="Read the query from a file (- for stdin).")
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    help="table, csv, tsv, json or xml; for CONSTRUCT/DESCRIBE an RDF format (default turtle).",
)
@click.option("--backend", "backend_url", metavar="URL",
              help="Query this SPARQL 1.1 endpoint instead of the built store (KG_BACKEND_URL).")
@click.pass_obj
def query(settings: Settings, query, file, fmt, backend_url):
    """Run a SPARQL query against the built store (argument, --file, or - for stdin).

    Our prefixes (kgo:, place:, schema:, ...) may be used without PREFIX lines. The default
    graph is the union of all named graphs. With --backend URL the same query runs on a remote
    endpoint the dataset was published to (`kg publish`), with the same answers.
    """
    from graph.backend import open_backend

    q = _read_query(query, file)
    if backend_url:
        settings = settings.replace(backend_url=backend_url)
    store = open_backend(settings)
    try:
        result = run(store, q, base_iri=settings.base_iri)
    except QuerySyntaxError as err:
        excerpt = err.excerpt()
        raise click.UsageError(f"{err}\n{excerpt}" if excerpt else str(err)) from err
    out = stdout_bytes()
    if isinstance(result, QuerySolutions):
        if fmt == "table":
            _print_table(result, settings.base_iri)
        else:
            out.write(result.serialize(format=results_format(fmt)))
    elif isinstance(result, QueryBoolean):
        if fmt == "table":
            click.echo("true" if bool(result) else "false")
        else:
            out.write(result.serialize(format=results_format(fmt)))
    else:
        rdf = RdfFormat.TURTLE if fmt == "table" else rdf_format(fmt)
        prefixes = all_prefixes(settings.base_iri) if rdf == RdfFormat.TURTLE else None
        out.write(serialize(result, format=rdf, prefixes=prefixes))
    out.flush()


@click.command()
@click.option("--format", "fmt", help="Extension or media type (ttl, trig, nt, nq, jsonld, rdf).")
@click.option("--output", "-o", default="-", show_default=True, help="Output file, - for stdout.")
@click.option("--graph", "graph", help="Export one named graph (its IRI) instead of the dataset.")
@click.pass_obj
def export(settings: Settings, fmt, output, graph):
    """Export the dataset (or one graph) deterministically; Turtle unless told otherwise.

    The format is guessed from the output file's extension when --format is not given. Quad
    formats keep the named graphs; triple formats get their union.
    """
    from graph.build.export import dump
    from graph.store import open_store

    if fmt is None:
        fmt = Path(output).suffix if output != "-" and Path(output).suffix else "ttl"
    rdf = rdf_format(fmt)
    store = open_store(settings)
    if graph is not None and not store.contains_named_graph(NamedNode(graph)):
        raise click.BadParameter(f"no named graph <{graph}> in the store", param_hint="--graph")
    if output == "-":
        out = stdout_bytes()
        dump(store, rdf, out, graph, base_iri=settings.base_iri)
        out.flush()
    else:
        dump(store, rdf, Path(output), graph, base_iri=settings.base_iri)
        click.echo(f"wrote {output} ({rdf.name})", err=True)


@click.command()
@click.option("--distinct", is_flag=True,
              help="Also count distinct triples in the union of the graphs (what the Turtle, "
                   "N-Triples and RDF/XML dumps hold): one more pass over the store.")
@click.pass_obj
def stats(settings: Settings, distinct: bool):
    """Print triples per named graph and instances per class.

    "triples" counts a triple once per named graph that states it, the VoID graph included:
    the figure of the build report, VoID (void:triples) and the home page.
    """
    from graph.build.stats import distinct_triples, instances_per_class, triples_per_graph
    from graph.store import dataset_version, open_store

    store = open_store(settings)
    click.echo(f"version\t{dataset_version(settings)}")
    graphs = triples_per_graph(store, settings.base_iri)
    click.echo(f"triples\t{sum(n for _, n in graphs)}")
    if distinct:
        click.echo(f"distinct triples\t{distinct_triples(store, settings.base_iri)}")
    click.echo("\ngraph\ttriples")
    for iri, n in graphs:
        click.echo(f"{iri}\t{n}")
    click.echo("\nclass\tinstances")
    for iri, n in instances_per_class(store, settings.base_iri):
        click.echo(f"{_cell(NamedNode(iri), settings.base_iri)}\t{n}")
