"""The policykg web service: SPARQL endpoint, linked-data pages, SHACL page, operations.

Layers, each once: `server.sparql` (the protocol, its guard and the answer), `server.engine` (the query
workers and the data they hold), `server.web` (pages for people), `server.ops` (health, metrics, the nginx
front), `server.cli` (`kg serve`). This module stays free of imports, so a query worker that imports
`server.engine` does not load Flask.
"""


def create_app(config: dict | None = None):
    """The Flask app (server/app.py); the name `flask --app server run` looks for."""
    from server.app import create_app as build

    return build(config)
