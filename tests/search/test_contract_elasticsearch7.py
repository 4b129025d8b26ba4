import pytest

from .conftest import use_elasticsearch_backend
from .contract import SearchBackendContract


@pytest.fixture(autouse=True)
def _elasticsearch7(settings, elasticsearch_major, elasticsearch_index_prefix):
    if elasticsearch_major != 7:
        pytest.skip(f"the node at ELASTICSEARCH_URL is Elasticsearch {elasticsearch_major}.x")
    use_elasticsearch_backend(
        settings,
        "elasticsearch7",
        "search.backends.elasticsearch7.Elasticsearch7SearchBackend",
        elasticsearch_index_prefix,
    )


class TestElasticsearch7SearchBackend(SearchBackendContract):
    backend_alias = "elasticsearch7"
