"""Elasticsearch 7.x backend: the 8.x backend with the 7.x client (``elasticsearch7``).

Our CI node is Elasticsearch 7.10.2 (the newest ``org.codelibs:elasticsearch-cluster-runner`` on
Maven Central); elasticsearch-py 8 refuses it (no ``X-Elastic-Product`` header). Index bodies,
queries, aggregations and highlights are the same on 7.10 and 8.x, so only the calls whose
signature or response shape differs in ``elasticsearch7`` are overridden:

- ``update_aliases`` and ``delete_by_query`` take ``body=`` (no ``actions=``/``query=``);
- responses are plain dicts, so a search is sent here and wrapped in a dsl ``Response`` instead
  of ``Search.execute()`` (which reads ``.body`` of an 8.x response);
- the client and its ``helpers``/``NotFoundError``/``RequestError`` come from ``elasticsearch7``.

``hits.total`` is an object (``{"value", "relation"}``) on 7.x too, and typeless mappings are
the 7.x default, so neither needs an override.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from elasticsearch.dsl import Search
from elasticsearch.dsl.response import Response
from elasticsearch7 import Elasticsearch, NotFoundError, RequestError, helpers
from elasticsearch7.transport import Transport, _ProductChecker

from .elasticsearch import ElasticsearchSearchBackend


class OpenSourceFlavourTransport(Transport):
    """Accept a 7.0–7.13 node of any build flavour (OSS or cluster-runner "unknown").

    elasticsearch7 7.14+ refuses such nodes as an "unsupported distribution" although they speak
    the same API; the older clients that did not check break on NumPy 2 (``np.float_``) and need
    urllib3 < 2. Only that verdict is relaxed: a server that is not Elasticsearch at all (wrong
    tagline, no product header on 7.14+) is still refused.
    """

    def _do_verify_elasticsearch(self, headers, timeout):
        super()._do_verify_elasticsearch(headers, timeout)
        if self._verified_elasticsearch == _ProductChecker.UNSUPPORTED_DISTRIBUTION:
            self._verified_elasticsearch = True


class Elasticsearch7SearchBackend(ElasticsearchSearchBackend):
    not_found_error = NotFoundError
    bad_request_error = RequestError

    def connect(self) -> Elasticsearch:
        return Elasticsearch(
            self.url, timeout=self.timeout, transport_class=OpenSourceFlavourTransport
        )

    def bulk(self, actions: Iterable[dict[str, Any]]) -> int:
        ok, _ = helpers.bulk(self.client, actions, chunk_size=1000)
        return ok

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self.client.indices.update_aliases(body={"actions": actions})

    def delete_all(self, index: str) -> None:
        self.client.delete_by_query(
            index=index, body={"query": {"match_all": {}}}, refresh=True, conflicts="proceed"
        )

    def execute(self, search: Search) -> Response:
        # Body fields as keywords, as the 7.15+ client wants (``from`` is spelled ``from_``).
        body = search.to_dict()
        if "from" in body:
            body["from_"] = body.pop("from")
        raw = self.client.search(index=search._index, **body, **search._params)
        return Response(search, raw)


__all__ = ["Elasticsearch7SearchBackend", "OpenSourceFlavourTransport"]
