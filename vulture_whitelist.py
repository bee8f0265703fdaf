# Names vulture (at 60 % confidence, `make lint`) cannot see used, each with who uses it.
# A name that is really dead is removed from the code, never added here.
# ruff: noqa
# fmt: off

# gunicorn reads its settings from the config module by name
graceful_timeout; keepalive; preload_app; limit_request_line; proc_name
control_socket_disable; accesslog; errorlog

# Flask registers these through their decorators: routes, an after_request hook, context processors
compared; cite; other; home; picture; ontology                  # @bp.get routes
suggest_entity; suggest_type; suggest_property; preview        # reconciliation routes
_tag; _cite_helper; _template_context                          # hooks and context processors

# granian names the worker hook on its command line (endpoint/server.py builds it)
granian_worker

# click registers commands through @main.command
stats; settings_command

# pydantic-settings calls these: the model config, the sources hook, validators, a loader override
model_config; _.settings_customise_sources; _._places; _._slash; _._load_env_vars

# pyparsing's API: Forward objects reassigned with <<=, and the parser's ignore list
forward; _.ignoreExprs

# io.RawIOBase's protocol: the dump writer is a file object
_.writable

# werkzeug's ResponseCacheControl attributes, set to make the header
_.public; _.max_age

# read by the Jinja templates (entity.html, accounts.html, recognitions.html, sources.html)
definition; perspective; document; anchor_side; _.anchor_side; _.placed_count; _.previous
reference_date; claims_about; incoming_next; incoming_prev; incoming_capped; claims_total
claims_query; incoming_query

# public API read by its tests: the cache's byte accounting (test_result_cache), a publish
# report's verdict (test_publish), the LIMIT of accounts_compared.rq (test_query_shapes), an
# in-memory dump (test_export, test_roundtrip)
_.size_bytes; verified; _.verified; CLAIMS_PER_QUESTION; to_bytes
