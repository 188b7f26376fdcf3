"""The PostgreSQL + pgvector backend: schema and migrations, the build writer, the reader.

Imported only when settings choose ``backend = "postgres"``; it needs the ``postgres`` extra.
"""
