"""The demo: the published figures as data (published.py), the simulation that fills in the
rest (simulate.py, areas.py), written as CSVs and stored through ingest (build.py)."""
