"""4. Queries: the DuckDB runner over the store's Parquet files; the SQL itself lives in
queries/*.sql at the top of the project. Imports the contract and the store."""
