"""`python -m blocks`: regenerate blocks/index.json from the block declarations."""
from blocks import write_index

print(f"wrote {write_index()}")
