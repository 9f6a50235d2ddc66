"""7. Documents: handouts and lists as A4 PDFs, from the same queries and disclosure rule as
the screens. Imports the contract, queries and display."""
