"""The pipeline's definition: its stages and exit criteria, loaded from the pipeline file, and the board."""
