"""Durable state: SQLite (WAL) through aiosqlite, numbered migrations, key files."""
