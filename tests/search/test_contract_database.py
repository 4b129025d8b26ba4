from .contract import SearchBackendContract


class TestDatabaseSearchBackend(SearchBackendContract):
    backend_alias = "database"
