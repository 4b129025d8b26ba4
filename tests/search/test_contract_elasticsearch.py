import pytest

from .conftest import use_elasticsearch_backend
from .contract import SearchBackendContract


@pytest.fixture(autouse=True)
def _elasticsearch8(settings, elasticsearch_major, elasticsearch_index_prefix):
    if elasticsearch_major < 8:
        pytest.skip(f"the node at ELASTICSEARCH_URL is Elasticsearch {elasticsearch_major}.x")
    use_elasticsearch_backend(
        settings,
        "elasticsearch",
        "search.backends.elasticsearch.ElasticsearchSearchBackend",
        elasticsearch_index_prefix,
    )


class TestElasticsearchSearchBackend(SearchBackendContract):
    backend_alias = "elasticsearch"
