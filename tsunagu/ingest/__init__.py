"""2. Ingest: a coordinator's file read (CSV today), checked against the contract and the
municipality's areas, compared with the month it replaces, and handed to the store.
Imports the contract and the store."""
