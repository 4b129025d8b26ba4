from .contract import SearchBackendContract


class TestElasticsearchSearchBackend(SearchBackendContract):
    backend_alias = "elasticsearch"
