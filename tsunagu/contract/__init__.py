"""1. The contract: what the data is (columns, types, codes), how a cell is read (parsing,
和暦), how it is named in Japanese (labels, numbers) and how a problem is told (issues).
Imports nothing of tsunagu."""
