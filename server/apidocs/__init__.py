"""The API docs page: Swagger UI from vendored files, under a strict Content-Security-Policy."""
