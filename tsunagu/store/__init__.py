"""3. The store: every version of every month kept, one atomic commit per upload, the audit
log, checksums and restore. Imports the contract."""
