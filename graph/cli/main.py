"""`kg`: build, validate, query, export and serve the Khojaly knowledge graph.

Data goes to stdout; progress and logs go to stderr. Exit codes follow pySHACL's documented
convention: 0 OK, 1 the data does not conform (syntax, shapes, integrity), 2 usage or runtime error.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
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

from graph.config import Settings, as_env
from graph.errors import DataError, KGError, QuerySyntaxError
from graph.formats import rdf_format, results_format
from graph.namespaces import all_prefixes, curie
from graph.queries import Query, parse_header, run


class KGGroup(click.Group):
    """A click group that turns our domain errors into messages on stderr and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DataError as err:
            for problem in err.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"kg: {len(err.problems)} problem(s); nothing was changed", err=True)
            ctx.exit(err.exit_code)
        except KGError as err:
            click.echo(f"kg: {err}", err=True)
            ctx.exit(err.exit_code)


def _stdout_bytes():
    """The binary stdout (also under click's CliRunner, which swaps sys.stdout)."""
    sys.stdout.flush()
    return sys.stdout.buffer


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def _progress(label: str):
    """A rich spinner on stderr when it is a terminal; nothing otherwise."""
    if not _stderr_is_tty():
        return nullcontext(lambda _step: None)
    from rich.console import Console

    console = Console(stderr=True)
    status = console.status(label)

    class _Steps:
        def __enter__(self):
            status.__enter__()
            return lambda step: status.update(f"{label}: {step}")

        def __exit__(self, *exc):
            return status.__exit__(*exc)

    return _Steps()


@click.group(cls=KGGroup)
@click.option("--base-iri", help="Base IRI of the dataset (default: KG_BASE_IRI or w3id.org).")
@click.option("--store", "store_path", type=click.Path(path_type=Path), help="Store symlink path.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Instance data folder.")
@click.option("--ontology-dir", type=click.Path(path_type=Path), help="Ontology folder.")
@click.version_option(package_name="khojaly-kg")
@click.pass_context
def main(ctx, base_iri, store_path, data_dir, ontology_dir):
    """The Khojaly knowledge graph: build, validate, query, export and serve it."""
    overrides = {
        "base_iri": base_iri,
        "store_path": store_path,
        "data_dir": data_dir,
        "texts_dir": data_dir / "texts" if data_dir else None,
        "ontology_dir": ontology_dir,
    }
    if ctx.obj is None:
        ctx.obj = Settings.from_env(**overrides)
    elif isinstance(ctx.obj, Settings):  # tests pass settings; options still win
        ctx.obj = ctx.obj.replace(**{k: v for k, v in overrides.items() if v is not None})


@main.command()
@click.option("--dumps", "dumps", metavar="FORMATS",
              help="Dumps to write now, e.g. nq,ttl (KG_DUMP_FORMATS; default all six); "
              "the others are made on first request.")
@click.pass_obj
def build(settings: Settings, dumps):
    """Parse, load a NEW store, validate it, and swap it in atomically; print a summary.

    On any problem the previous store keeps serving and nothing is changed.
    """
    from graph.build.pipeline import build as run_build

    if dumps is not None:
        settings = settings.replace(dump_formats=tuple(dumps.replace(",", " ").split()))
    with _progress("building") as step:
        report = run_build(settings, on_step=step)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"built version {report.version}: {report.triples} triples in {len(report.graphs)} "
        f"named graphs, the VoID graph included -> {settings.store_path}",
        err=True,
    )


@main.command()
@click.pass_obj
def validate(settings: Settings):
    """Parse and validate (SHACL + integrity checks), leaving the built store alone. Exit 0/1/2.

    Inputs above KG_PYSHACL_MAX_TRIPLES data triples are checked in a temporary on-disk store,
    as `kg build` checks them.
    """
    from graph.build.pipeline import check_inputs

    with _progress("validating") as step:
        parsed, report = check_inputs(settings, on_step=step)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not report.conforms:
        raise DataError(report.problems)
    click.echo(f"conforms: {len(parsed.files)} files, no problems", err=True)


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


@main.command()
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
    out = _stdout_bytes()
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


@main.command()
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
        out = _stdout_bytes()
        dump(store, rdf, out, graph, base_iri=settings.base_iri)
        out.flush()
    else:
        dump(store, rdf, Path(output), graph, base_iri=settings.base_iri)
        click.echo(f"wrote {output} ({rdf.name})", err=True)


@main.command()
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


@main.command("settings")
@click.option("--markdown", is_flag=True,
              help="Print docs/settings.md (the table as Markdown) instead of a rich table.")
def settings_command(markdown):
    """Every KG_* setting: its type, default, where it applies and what it does."""
    from graph.config import table

    rows = list(table())
    if markdown:
        click.echo(settings_markdown(rows), nl=False)
        return
    from rich.console import Console
    from rich.table import Column, Table

    shown = Table(Column("variable", no_wrap=True), "type", "default", "applies to",
                  "what it does")
    for row in rows:
        shown.add_row(*row)
    Console().print(shown)


def settings_markdown(rows) -> str:
    """docs/settings.md: generated from graph/config.py (`kg settings --markdown`)."""
    lines = [
        "# Settings",
        "",
        "<!-- generated by `kg settings --markdown > docs/settings.md`; edit graph/config.py -->",
        "",
        "Every setting is an environment variable, declared once in `graph/config.py` and read",
        "only there (`Settings.from_env()`); `kg settings` prints this table. An empty list is",
        "written as an empty variable; a boolean accepts 1/0, true/false, yes/no, on/off.",
        "",
        "| variable | type | default | applies to | what it does |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, kind, default, applies, text in rows:
        cell = f"`{default}`" if default else ""
        lines.append(f"| `{name}` | {kind} | {cell} | {applies} | {text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


@main.command()
@click.option("--host", help="Interface to bind (default: KG_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: KG_PORT, 8000).")
@click.option("--workers", type=int, help="Server worker processes (default: KG_WORKERS, 2).")
@click.option("--threads", type=int, help="Request threads per worker (default: KG_THREADS, 32).")
@click.option("--get", "get_path", metavar="PATH",
              help="Run one GET of PATH through the app (no server), print the body and exit.")
@click.option("--header", "-H", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="With --get: a request header, e.g. -H 'Accept: text/turtle'. Repeatable.")
@click.option("--backend", "backend_url", metavar="URL",
              help="Serve from this SPARQL 1.1 endpoint instead of the built store "
                   "(KG_BACKEND_URL; publish to it first with `kg publish`).")
@click.pass_obj
def serve(settings: Settings, host, port, workers, threads, get_path, headers, backend_url):
    """Serve the built store with granian (KG_SERVER=gunicorn: gunicorn); print the URL.

    Connections still sending headers after KG_HEADER_TIMEOUT s are closed, and a request body
    not in after KG_BODY_TIMEOUT s gets 408. kill -TERM stops the whole process tree; kill -HUP
    replaces the workers (they open the current build).

    With --get PATH, run one request through the app instead (handy for debugging and tests):
    the body goes to stdout, the status line to stderr, and the exit code is 0 for a status
    below 400, else 2.
    """
    from graph.store import current_build_dir

    if backend_url:
        settings = settings.replace(backend_url=backend_url)
    if not settings.backend_url:
        current_build_dir(settings)  # fail early, with exit code 2, when nothing was built
    changes = {"host": host, "port": port, "workers": workers, "threads": threads}
    settings = settings.replace(**{k: v for k, v in changes.items() if v is not None})
    if get_path:
        sys.exit(_serve_get(settings, get_path, headers))
    from endpoint.server import command

    args = command(settings)
    click.echo(f"serving http://{settings.host}:{settings.port}/ "
               f"(SPARQL at http://{settings.host}:{settings.port}/sparql); Ctrl-C stops",
               err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, {**os.environ, **as_env(settings)})


def _serve_get(settings: Settings, path: str, headers: tuple[str, ...]) -> int:
    """One request through the Flask test client (datasette's `--get`)."""
    from endpoint import create_app

    pairs = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep:
            raise click.UsageError(f"--header {header!r}: expected 'Name: value'")
        pairs.append((name.strip(), value.strip()))
    app = create_app(settings)
    try:
        response = app.test_client().get(path, headers=pairs)
        click.echo(f"{response.status}", err=True)
        body = response.get_data()
        _stdout_bytes().write(body)
        if body and not body.endswith(b"\n"):
            _stdout_bytes().write(b"\n")
    finally:
        app.extensions["kg"].pool.close()
    return 0 if response.status_code < 400 else 2


# ---------------------------------------------------------------------------------------------
# Commands from other modules are registered here, one line each, e.g.:
#     from graph.linking.client import link
#     main.add_command(link)
# ---------------------------------------------------------------------------------------------
from graph.cli.link import enrich, link  # noqa: E402 - linking

main.add_command(link)
main.add_command(enrich)

from graph.cli.publish import publish  # noqa: E402 - publishing to a SPARQL server

main.add_command(publish)
