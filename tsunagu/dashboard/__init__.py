"""7. The dashboard (Streamlit): the data a page reads (session), the access gate, the header
and filters, tables and charts (widgets), CSV export. pages/ is built from these. Imports
every layer below it except ingest, which only the upload page uses."""
