"""The click commands behind `connector`, one module per group; connector/cli.py loads them on demand."""
