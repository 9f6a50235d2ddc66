"""Development tools, outside the product: synthetic stores, the benchmark and its load client.

The dashboard never imports them (tests/test_layers.py); they may import the product. Their
own dependencies are in tools/requirements.txt.
"""
