"""5. Display: what may be shown (the disclosure rule for small counts), the charts and the
font, the same on the screen, the wall and paper. Imports the contract."""
